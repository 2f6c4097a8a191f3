"""Machinery every stage shares: config, stage harness, gateway, caches, tracking, shards."""
