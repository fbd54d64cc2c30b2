"""PyTorch checkpoint → MLX layout, one module per component family; pure numpy (no model package needed)."""
