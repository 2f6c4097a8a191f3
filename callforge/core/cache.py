"""A persistent, content-addressed cache of model responses (SQLite, one file, safe across processes).

The key is a hash of everything that determines a response — provider, model, messages, sampling
parameters, and the seed actually sent (per request: see gateway.seed_for) — so a re-run with
unchanged inputs makes zero calls, a killed run resumes by replaying what it already paid for, and two
samples that send the same prompt under different seeds get separate entries. Keys never include the
API key.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path


def request_key(request: dict) -> str:
    blob = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        # Switching to WAL needs the database to itself, and SQLite does not wait for that (no busy timeout):
        # shards opening the cache at the same moment retry instead of failing with "database is locked".
        for attempt in range(100):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError:
                if attempt == 99:
                    raise
                time.sleep(0.05)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get(self, key: str) -> dict | None:
        row = self._db.execute("SELECT value FROM responses WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: dict) -> None:
        self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, json.dumps(value, ensure_ascii=False)))

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        self._db.close()
