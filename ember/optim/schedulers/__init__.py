"""Learning-rate schedulers, one family per file; import them from `ember.optim.lr_scheduler`."""
