"""The sandbox running for real (Mend, the double, the page's API) on a free port, and a client for its API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.run import start_sandbox
from sandbox.world import Sandbox


@dataclass
class SandboxClient:
    """Calls the sandbox's API as the page does."""

    sandbox: Sandbox
    http: aiohttp.ClientSession

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.sandbox.port}"

    def persona(self, handle: str) -> str:
        return next(p.user_id for p in self.sandbox.personas if p.name == handle)

    async def state(self, as_user: str | None = None) -> dict[str, Any]:
        params = {"as": as_user} if as_user else {}
        async with self.http.get(self.base + "/sandbox/api/state", params=params) as response:
            assert response.status == 200, await response.text()
            body: dict[str, Any] = await response.json()
            return body

    async def post(self, path: str, body: dict[str, Any], *, status: int = 200) -> dict[str, Any]:
        async with self.http.post(f"{self.base}/sandbox/api/{path}", json=body) as response:
            assert response.status == status, await response.text()
            answer: dict[str, Any] = await response.json()
            return answer


def channel(state: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in state["channels"] if c["name"] == name)


MakeClient = Callable[..., Awaitable[SandboxClient]]


@pytest.fixture
async def make_client(tmp_path: Path) -> AsyncIterator[MakeClient]:
    """A factory, so a test can ask for seed data; everything started is stopped after the test."""
    started: list[SandboxClient] = []

    async def factory(*, seed: bool = False, start: datetime | None = None) -> SandboxClient:
        sandbox = await start_sandbox(
            port=0,
            seed=seed,
            start=start,
            database_url=f"sqlite:///{tmp_path / f'sandbox-{len(started)}.db'}",
        )
        client = SandboxClient(sandbox, aiohttp.ClientSession())
        started.append(client)
        return client

    yield factory
    for client in started:
        await client.http.close()
        await client.sandbox.stop()


@pytest.fixture
async def client(make_client: MakeClient) -> AsyncIterator[SandboxClient]:
    yield await make_client()
