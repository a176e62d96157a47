"""City carbon accounts: factors, inventory, decomposition, budget, forecasts, assets."""
