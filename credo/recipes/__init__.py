"""Recipes: orchestration over the packages below (generate, audit, mix, train, evaluate)."""
