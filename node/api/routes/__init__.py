"""The node's routes, one APIRouter per area; ``node.api.main`` includes them all."""
