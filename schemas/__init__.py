"""What flows: events and decisions as versioned pydantic models."""
