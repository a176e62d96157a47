"""The green low-carbon indicator system: framework, pipeline steps, AHP and analysis."""
