"""The product's brain: understanding, the agent and its tools, memory, feedback, admin, CLI."""
