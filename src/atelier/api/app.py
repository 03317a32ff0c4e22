"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from atelier import __version__
from atelier.accounts.sessions import SessionSigner
from atelier.api import errors
from atelier.api.limits import EdgeMiddleware
from atelier.api.ratelimit import TokenBuckets
from atelier.config import Settings, get_settings
from atelier.prompts.presets import PresetLibrary
from atelier.runtime import Runtime, build_runtime
from atelier.tasks.service import TaskService

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or build_runtime(settings)
        app.state.runtime = rt
        app.state.tasks = TaskService(rt)
        await rt.bus.start()
        log.info("atelier API ready (%s)", settings.database_url.split(":", 1)[0])
        try:
            yield
        finally:
            await rt.bus.stop()
            if runtime is None:
                rt.close()

    app = FastAPI(
        title="Atelier",
        version=__version__,
        description="Self-hosted AI image platform: durable tasks, live progress, providers.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.signer = SessionSigner(settings)
    app.state.presets = PresetLibrary(settings.prompts.user_dir)
    app.state.submit_limits = TokenBuckets(
        settings.limits.submit_per_minute, settings.limits.submit_burst
    )
    errors.install(app)
    app.add_middleware(EdgeMiddleware, max_bytes=settings.max_request_bytes)

    from atelier.generation.endpoints import router as generation_router
    from atelier.images.endpoints import router as images_router
    from atelier.openai_compat.endpoints import router as openai_router
    from atelier.prompts.endpoints import router as presets_router
    from atelier.providers.endpoints import router as providers_router
    from atelier.stylize.endpoints import router as stylize_router
    from atelier.system.endpoints import router as system_router
    from atelier.tasks.endpoints import router as tasks_router

    app.include_router(tasks_router)
    app.include_router(generation_router)
    app.include_router(images_router)
    app.include_router(system_router)
    app.include_router(providers_router)
    app.include_router(openai_router)
    app.include_router(presets_router)
    app.include_router(stylize_router)
    return app
