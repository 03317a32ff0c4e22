"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from atelier import __version__
from atelier.accounts.auth import credentials_guard
from atelier.accounts.sessions import SessionSigner
from atelier.api import errors
from atelier.api.fastsubmit import FastSubmitMiddleware
from atelier.api.limits import EdgeMiddleware
from atelier.api.ratelimit import RateLimitMiddleware
from atelier.config import Settings, get_settings
from atelier.limits.rates import RateLimiter
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
            await app.state.limiter.aclose()
            if runtime is None:
                rt.close()

    app = FastAPI(
        title="Atelier",
        version=__version__,
        description="Self-hosted AI image platform: durable tasks, live progress, providers.",
        lifespan=lifespan,
        # every route: no credentials in URLs; an API key is checked, with its scopes;
        # a route that submits tasks spends from the submission rate limits
        dependencies=[Depends(credentials_guard)],
    )
    app.state.settings = settings
    app.state.signer = SessionSigner(settings)
    app.state.presets = PresetLibrary(settings.prompts.user_dir)
    app.state.limiter = RateLimiter(settings)
    errors.install(app)
    app.state.fast_submits = 0
    if settings.fast_submit:  # the innermost of ours: rate limits and the edge apply to it
        app.add_middleware(FastSubmitMiddleware)
    app.add_middleware(RateLimitMiddleware, limiter=app.state.limiter)
    app.add_middleware(EdgeMiddleware, max_bytes=settings.max_request_bytes)

    from atelier.accounts.endpoints import admin_router as accounts_admin_router
    from atelier.accounts.endpoints import router as accounts_router
    from atelier.erase.endpoints import router as erase_router
    from atelier.generation.endpoints import router as generation_router
    from atelier.images.endpoints import router as images_router
    from atelier.library.endpoints import router as library_router
    from atelier.library.endpoints import shared_router as library_shared_router
    from atelier.library.external import router as external_router
    from atelier.limits.endpoints import router as limits_router
    from atelier.manga.endpoints import router as manga_router
    from atelier.openai_compat.endpoints import router as openai_router
    from atelier.prompts.endpoints import router as presets_router
    from atelier.providers.endpoints import router as providers_router
    from atelier.storage.admin_api import router as storage_admin_router
    from atelier.stylize.endpoints import router as stylize_router
    from atelier.system.endpoints import metrics_router
    from atelier.system.endpoints import router as system_router
    from atelier.tasks.endpoints import router as tasks_router

    app.include_router(tasks_router)
    app.include_router(limits_router)
    app.include_router(generation_router)
    app.include_router(images_router)
    app.include_router(system_router)
    app.include_router(metrics_router)
    app.include_router(providers_router)
    app.include_router(openai_router)
    app.include_router(presets_router)
    app.include_router(stylize_router)
    app.include_router(manga_router)
    app.include_router(erase_router)
    app.include_router(library_router)
    app.include_router(library_shared_router)
    app.include_router(external_router)
    app.include_router(accounts_router)
    app.include_router(accounts_admin_router)
    app.include_router(storage_admin_router)

    from atelier.api.webui import mount_web_ui

    mount_web_ui(app, settings)  # the web UI at /; after the routers, never shadows the API
    return app
