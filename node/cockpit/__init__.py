"""The decision cockpit: the city's carbon and green-development picture in the browser."""
