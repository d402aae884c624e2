// Placeholder so the target builds; delete when the target gets real sources.
