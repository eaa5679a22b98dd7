"""Leaderboards as plain rules: which board an instant belongs to (`periods`), how equal scores rank
(`ranking`), the sort key that orders a board inside an index (`score_keys`) and the score histogram
that places a member far below the top (`histogram`). Storage is infra/leaderboards."""
