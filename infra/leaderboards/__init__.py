"""Leaderboards: rows mirroring qualification in a write-sharded sparse index (see boards.py)."""
from infra.leaderboards.boards import (EXACT_TOP, SHARDS, Leaderboards, MyRank, RankedRow, ReadCost, Row, Seed,
                                       qualifying_all, qualifying_points)

__all__ = ["EXACT_TOP", "SHARDS", "Leaderboards", "MyRank", "RankedRow", "ReadCost", "Row", "Seed", "qualifying_all",
           "qualifying_points"]
