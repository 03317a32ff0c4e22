"""Settings: pydantic-settings, prefix ``ATELIER_``, nested with ``__``.

Every field here is documented in ``docs/configuration.md``; a test keeps the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from atelier.config_features import (
    GenerationSettings,
    LibraryApiEmbedderSettings,
    LibrarySettings,
    LibraryVlmSettings,
    MangaChatSettings,
    MangaSettings,
)
from atelier.config_platform import (
    AdminLimitSettings,
    AnonLimitSettings,
    ContentAction,
    LimitSettings,
    RetentionSettings,
    SafetySettings,
    UserLimitSettings,
    WebhookSettings,
)
from atelier.images.watermark import WatermarkPolicy

# the feature and platform sections live in their own modules and are re-exported here
__all__ = [  # noqa: RUF022 (grouped by section)
    "GenerationSettings",
    "LibraryApiEmbedderSettings",
    "LibrarySettings",
    "LibraryVlmSettings",
    "MangaChatSettings",
    "MangaSettings",
    "AdminLimitSettings",
    "AnonLimitSettings",
    "ContentAction",
    "LimitSettings",
    "RetentionSettings",
    "SafetySettings",
    "UserLimitSettings",
    "WebhookSettings",
]

DEFAULT_SECRET = "atelier-local-dev-secret-change-me"


class DatabaseSettings(BaseModel):
    url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty means SQLite at `<data_dir>/atelier.db`. "
        "For PostgreSQL use `postgresql+psycopg://user@host/db`.",
    )
    pool_size: int = Field(default=10, ge=1, description="Connection pool size (PostgreSQL).")
    echo: bool = Field(default=False, description="Log every SQL statement.")


class QueueSettings(BaseModel):
    broker_url: str = Field(
        default="",
        description="Celery broker. Empty means the embedded broker: a SQLite file "
        "`<data_dir>/broker.db`, no server. `redis://host:6379/0` or `amqp://guest@host//` "
        "for distributed mode.",
    )
    embedded_worker: bool = Field(
        default=True, description="`atelier serve` starts a worker process beside the API."
    )
    embedded_concurrency: int = Field(
        default=2, ge=1, description="Concurrency of the worker started by `atelier serve`."
    )
    embedded_library_worker: bool = Field(
        default=True,
        description="`atelier serve` runs the `library` queue (tagging, re-embedding) in a "
        "second worker process of its own, one task at a time at a lower CPU priority, so "
        "background tagging never delays other tasks. Off: the one embedded worker consumes "
        "it too, in its own slots.",
    )
    poll_interval: float = Field(
        default=0.05, gt=0, description="Seconds between polls of the embedded broker."
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Attempts per task before a transient failure is final."
    )
    retry_base_delay: float = Field(
        default=1.0, ge=0, description="Base of the exponential retry backoff, seconds."
    )
    retry_max_delay: float = Field(
        default=60.0, ge=0, description="Cap of the retry backoff, seconds."
    )
    max_worker_losses: int = Field(
        default=3,
        ge=1,
        description="Times a task's worker may die under it (lease lapsed) before the task is "
        "failed with `worker_lost`: a task that kills its worker is not retried for ever.",
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A running task's lease; the worker renews it every third of this. A "
        "task whose lease lapses is redelivered by the recovery sweep.",
    )
    sweep_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between recovery sweeps (expired leases, "
        "tasks committed but never enqueued).",
    )
    redispatch_after: float = Field(
        default=120.0,
        gt=0,
        description="A pending or retrying task not picked up this many seconds after it was "
        "due is sent to the broker again (covers messages lost with a dead worker or an API "
        "that died between commit and publish; duplicates are harmless).",
    )
    default_estimate_seconds: float = Field(
        default=5.0, gt=0, description="Run time assumed for a kind before any has completed."
    )


class EventSettings(BaseModel):
    backend: Literal["auto", "memory", "redis"] = Field(
        default="auto",
        description="`memory`: in-process fan-out fed by tailing the events table (works "
        "across processes on one database). `redis`: Redis pub/sub. `auto`: `redis` when "
        "`redis_url` is set or the broker is Redis, else `memory`.",
    )
    redis_url: str = Field(
        default="", description="Redis URL for the event bus; default: the broker's, if Redis."
    )
    poll_interval: float = Field(
        default=0.02, gt=0, description="Seconds between polls of the events table (memory)."
    )
    heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="Keep-alive comment interval on SSE streams."
    )


class S3Settings(BaseModel):
    endpoint_url: str = Field(default="", description="S3-compatible endpoint; empty for AWS.")
    bucket: str = Field(default="atelier", description="Bucket name.")
    region: str = Field(default="us-east-1", description="Region.")
    access_key_id: str = Field(default="", description="Access key id.")
    secret_access_key: SecretStr = Field(default=SecretStr(""), description="Secret key.")
    prefix: str = Field(default="", description="Key prefix inside the bucket.")
    create_bucket: bool = Field(
        default=False, description="Create the bucket at start-up when it is missing."
    )
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="path", description="Bucket addressing style."
    )
    connect_timeout: float = Field(default=5.0, gt=0, description="Connect timeout, seconds.")
    read_timeout: float = Field(default=30.0, gt=0, description="Read timeout, seconds.")
    max_attempts: int = Field(
        default=3, ge=1, description="Attempts per request (botocore standard retries)."
    )


class StorageEndpointSettings(BaseModel):
    """One endpoint of multi-endpoint storage (see docs/storage.md)."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        description="Stable identifier: lower-case letters, digits, `-` and `_`.",
    )
    name: str = Field(default="", max_length=128, description="Display name; default the id.")
    type: Literal["local", "s3"] = Field(default="local", description="`local` or `s3`.")
    role: Literal["primary", "backup"] = Field(
        default="backup", description="Writes go to the primary; backups receive copies."
    )
    read_priority: int = Field(
        default=100, ge=0, le=1_000_000, description="Reads try lower values first."
    )
    read_weight: float = Field(
        default=1.0, ge=0, le=1_000_000, description="Weighted choice among equal priorities."
    )
    state: Literal["active", "draining", "down"] = Field(
        default="active", description="Initial state (the database owns it afterwards)."
    )
    root: Path | None = Field(default=None, description="Directory of a `local` endpoint.")
    s3: S3Settings = Field(default_factory=S3Settings, description="Bucket of an `s3` endpoint.")


class StorageReplicationSettings(BaseModel):
    interval: float = Field(
        default=5.0, gt=0, description="Seconds between replication passes (in each worker)."
    )
    batch: int = Field(default=200, ge=1, description="Replicas copied or deleted per pass.")
    retry_base_delay: float = Field(
        default=2.0, ge=0, description="Base of a failed copy's exponential backoff, seconds."
    )
    retry_max_delay: float = Field(default=600.0, ge=0, description="Cap of that backoff.")
    claim_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A replica being copied is not taken by another worker for this long.",
    )
    plan_interval: float = Field(
        default=600.0,
        gt=0,
        description="Seconds between full checks that every active endpoint holds every object "
        "(new endpoints are checked at once).",
    )


class StorageSettings(BaseModel):
    backend: Literal["local", "s3"] = Field(default="local", description="Object storage.")
    local_root: Path | None = Field(
        default=None, description="Directory for the local backend; default `<data_dir>/storage`."
    )
    s3: S3Settings = Field(default_factory=S3Settings)
    endpoints: list[StorageEndpointSettings] = Field(
        default_factory=list,
        description='Extra storage endpoints, as JSON, e.g. `[{"id": "backup", "type": '
        '"s3", "role": "backup", "s3": {"bucket": "atelier-copy"}}]`. The '
        "single backend above is the primary endpoint `default` unless an entry has that id. "
        "Setting any turns multi-endpoint storage on (docs/storage.md).",
    )
    multi: bool = Field(
        default=False,
        description="Multi-endpoint storage even with no `endpoints` (endpoints are then added "
        "at run time through the admin API or CLI).",
    )
    health_interval: float = Field(
        default=10.0, gt=0, description="Seconds between health probes of each endpoint."
    )
    refresh_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a process keeps its view of the endpoint table before reading it "
        "again (admin changes reach every process within this).",
    )
    replication: StorageReplicationSettings = Field(default_factory=StorageReplicationSettings)

    @property
    def multi_enabled(self) -> bool:
        return self.multi or bool(self.endpoints)


class ImageSettings(BaseModel):
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="Upload cap.")
    max_pixels: int = Field(
        default=40_000_000, ge=1, description="Decompression-bomb guard: largest pixel count."
    )
    thumbnail_size: int = Field(default=256, ge=16, description="Thumbnail longest side.")
    output_format: Literal["png", "webp", "jpeg"] = Field(
        default="png", description="Encoding of generated images."
    )
    provenance: bool = Field(
        default=False,
        description="Embed a provenance record (generator, model, provider, task, pixel hash) "
        "in generated PNGs.",
    )
    cache_max_age: int = Field(
        default=31536000, ge=0, description="`Cache-Control` max-age of image bytes (immutable)."
    )


class AuthSettings(BaseModel):
    session_ttl_seconds: int = Field(
        default=7 * 24 * 3600, ge=60, description="Lifetime of an anonymous session token."
    )
    cookie_name: str = Field(default="atelier_session", description="Session cookie name.")
    cookie_secure: bool = Field(default=False, description="Mark the cookie `Secure`.")
    registration_open: bool = Field(
        default=True,
        description="Anyone may register with `POST /api/v1/auth/register`; when false, "
        "accounts are made with `atelier admin create-user`.",
    )
    first_user_admin: bool = Field(
        default=True, description="The first account registered becomes an admin."
    )
    access_ttl_seconds: int = Field(
        default=900, ge=1, description="Lifetime of an account's access token (JWT)."
    )
    refresh_ttl_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=60,
        description="Lifetime of a refresh token; each refresh rotates it and starts a new one.",
    )
    password_time_cost: int = Field(
        default=3,
        ge=1,
        description="argon2id passes; hashes made with other values are rehashed at the next "
        "login.",
    )
    password_memory_kib: int = Field(
        default=65536, ge=8, description="argon2id memory per hash, KiB."
    )
    password_parallelism: int = Field(default=4, ge=1, description="argon2id lanes.")
    login_max_failures: int = Field(
        default=10,
        ge=1,
        description="Failed logins per email and client address within `login_window_seconds` "
        "before further attempts get 429 (counted in each API process).",
    )
    login_window_seconds: float = Field(
        default=900.0, gt=0, description="Sliding window of the login throttle, seconds."
    )
    api_keys_per_user: int = Field(
        default=50, ge=1, description="Most API keys (not revoked) one account may hold."
    )


class VolcengineSettings(BaseModel):
    ark_base_url: str = Field(
        default="https://ark.cn-beijing.volces.com/api/v3", description="Ark API base URL."
    )
    ark_api_key: SecretStr = Field(default=SecretStr(""), description="Ark API key.")
    ark_model: str = Field(
        default="doubao-seedream-4-0-250828", description="Seedream model on Ark."
    )
    visual_base_url: str = Field(
        default="https://visual.volcengineapi.com", description="Visual API base URL (Jimeng)."
    )
    access_key_id: str = Field(default="", description="Visual API access key id (HMAC).")
    secret_access_key: SecretStr = Field(
        default=SecretStr(""), description="Visual API secret key (HMAC-SHA256 signing)."
    )
    region: str = Field(default="cn-north-1", description="Visual API region.")
    jimeng_req_key: str = Field(
        default="jimeng_t2i_v40", description="Visual API `req_key` of the Jimeng model."
    )


class OpenAISettings(BaseModel):
    base_url: str = Field(
        default="https://api.openai.com/v1", description="OpenAI-compatible images API."
    )
    api_key: SecretStr = Field(default=SecretStr(""), description="API key.")
    model: str = Field(default="gpt-image-1", description="Image model.")


class DashScopeSettings(BaseModel):
    base_url: str = Field(
        default="https://dashscope.aliyuncs.com/api/v1", description="DashScope API base URL."
    )
    api_key: SecretStr = Field(default=SecretStr(""), description="DashScope API key.")
    model: str = Field(default="wanx2.1-t2i-turbo", description="Wanxiang model.")
    poll_interval: float = Field(default=1.0, gt=0, description="Seconds between task polls.")


class DiffusersSettings(BaseModel):
    models: list[str] = Field(
        default_factory=list,
        description="Diffusers models to offer: local paths or Hugging Face repo ids already "
        "in the cache (nothing is downloaded), comma-separated in the environment as JSON.",
    )
    device: str = Field(default="auto", description="`auto`, `cuda`, `cuda:N` or `cpu`.")
    preload: bool = Field(default=True, description="Load models when a GPU worker starts.")
    compile: bool = Field(default=False, description="`torch.compile` the denoiser.")


class RouteSettings(BaseModel):
    candidates: dict[str, float] = Field(
        description="Models to start with and their A/B weights (the chosen one is recorded "
        "on the task)."
    )
    fallback: list[str] = Field(
        default_factory=list, description="Models tried in order when the chosen one fails."
    )


class PolicySettings(BaseModel):
    timeout: float = Field(default=15.0, gt=0, description="Seconds per provider call.")
    retries: int = Field(
        default=2, ge=0, description="Retries of a transient provider failure, per provider."
    )
    retry_base_delay: float = Field(
        default=0.5, ge=0, description="Base of the in-call retry backoff, seconds."
    )
    retry_max_delay: float = Field(default=8.0, ge=0, description="Cap of that backoff.")
    breaker_failures: int = Field(
        default=5,
        ge=1,
        description="Consecutive failed calls (after retries) that open a provider's circuit.",
    )
    breaker_cooldown: float = Field(
        default=30.0, gt=0, description="Seconds an open circuit skips the provider."
    )
    cache_ttl: float = Field(
        default=7 * 24 * 3600.0,
        ge=0,
        description="Seconds a provider result is reused for an identical request "
        "(input fingerprint, normalised prompt, parameters, provider); 0 turns it off.",
    )
    routes: dict[str, RouteSettings] = Field(
        default_factory=lambda: {
            "auto": RouteSettings(candidates={"procedural": 1.0}, fallback=[])
        },
        description="Named routes usable as a task's `model`, as JSON, e.g. "
        '`{"auto": {"candidates": {"seedream": 0.9, "openai": 0.1}, '
        '"fallback": ["wanx", "procedural"]}}`.',
    )


class StylizeSettings(BaseModel):
    default_model: str = Field(
        default="classical",
        description="Image-to-image model or route for `stylize` when a task names none.",
    )
    max_side: int = Field(
        default=2048, ge=64, description="Photos are scaled down to this longest side first."
    )


EraseInpainter = Literal["auto", "opencv", "lama", "diffusers"]
EraseFallback = Literal["opencv", "lama", "diffusers"]


def _erase_fallback() -> list[EraseFallback]:
    return ["lama", "opencv"]


class EraseSettings(BaseModel):
    inpainter: EraseInpainter = Field(
        default="auto",
        description="What redraws the erased pixels: `opencv` (Telea, always there), `lama` "
        "(the LaMa ONNX model `lama_model`), `diffusers` (the inpainting pipeline "
        "`diffusers_model`, GPU queue) or `auto` (diffusers with a GPU, else LaMa when its file "
        "is there, else OpenCV). A task may name one.",
    )
    fallback: list[EraseFallback] = Field(
        default_factory=_erase_fallback,
        description="Inpainters tried in order when the chosen one is missing or fails; "
        "OpenCV always ends the chain.",
    )
    opencv_method: Literal["telea", "ns"] = Field(
        default="telea", description="OpenCV's inpainting method: `telea` or `ns` (Navier-Stokes)."
    )
    opencv_radius: int = Field(
        default=3, ge=1, le=20, description="Neighbourhood radius of OpenCV inpainting, pixels."
    )
    lama_model: str = Field(
        default="lama_fp32.onnx",
        description="LaMa ONNX file under `providers.models_dir` (or an absolute path): inputs "
        "`image` (1x3xHxW, 0..1) and `mask` (1x1xHxW), output the picture.",
    )
    diffusers_model: str = Field(
        default="",
        description="Diffusers inpainting pipeline for `inpainter=diffusers`: a directory under "
        "`providers.models_dir`, an absolute path or a Hugging Face repo id in the local cache.",
    )
    diffusers_steps: int = Field(
        default=20, ge=1, le=100, description="Denoising steps of the diffusers inpainter."
    )
    diffusers_size: int = Field(
        default=512,
        ge=64,
        le=2048,
        description="Side of the square the diffusers inpainter works at.",
    )
    diffusers_prompt: str = Field(
        default="clean background, seamless, no text, no watermark",
        description="Prompt of the diffusers inpainter.",
    )
    segmenter: Literal["auto", "onnx", "people", "classical", "none"] = Field(
        default="auto",
        description="Subject segmentation: `onnx` (`segmenter_model`), `people` (face and body "
        "detection + GrabCut), `classical` (GrabCut from the centre), `none`, or `auto` (the "
        "ONNX model when configured; without one, people then classical, and only for a "
        "background redraw). Each falls back to the next.",
    )
    segmenter_model: str = Field(
        default="",
        description="Segmentation ONNX file under `providers.models_dir`: U²-Net / IS-Net, "
        "BiRefNet, MODNet, or a SAM image encoder (with `sam_decoder_model`).",
    )
    segmenter_family: Literal["auto", "u2net", "isnet", "birefnet", "modnet", "sam"] = Field(
        default="auto",
        description="Pre- and post-processing of `segmenter_model`; `auto` guesses from the "
        "file name.",
    )
    sam_decoder_model: str = Field(
        default="", description="The SAM mask decoder ONNX file, for `segmenter_family=sam`."
    )
    min_confidence: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Text read with less confidence is left alone."
    )
    detection_side: int = Field(
        default=1280,
        ge=256,
        le=4096,
        description="Text detection runs at the photo's size, scaled down to this longest side.",
    )
    max_side: int = Field(
        default=2048, ge=64, description="Photos are scaled down to this longest side first."
    )
    mask_margin: int = Field(
        default=1,
        ge=0,
        le=20,
        description="Pixels the glyph mask is grown by (anti-aliasing, compression ringing).",
    )
    second_pass_dilation: int = Field(
        default=3,
        ge=0,
        le=50,
        description="When text is still read after erasing, the first mask of its lines is "
        "grown by this many pixels (and what remains of the letters is masked) for a second "
        "pass.",
    )
    quality_score: bool = Field(
        default=True, description="Compute the BRISQUE no-reference quality score."
    )
    onnx_threads: int = Field(
        default=0, ge=0, description="Threads per ONNX model (OCR included); 0: ONNX Runtime's."
    )
    model_idle_seconds: float = Field(
        default=600.0, gt=0, description="ONNX and diffusers models unused this long are evicted."
    )


class PromptSettings(BaseModel):
    user_dir: Path | None = Field(
        default=None,
        description="A directory of TOML files with your own style and location presets "
        "(same shape as the built-in ones; an id that exists replaces it).",
    )


class ProviderSettings(BaseModel):
    secrets_file: Path | None = Field(
        default=None,
        description="A TOML file with provider keys (`[openai] api_key = ...`), read instead "
        "of environment variables so keys stay out of process listings.",
    )
    models_dir: Path | None = Field(default=None, description="Directory of local model weights.")
    volcengine: VolcengineSettings = Field(default_factory=VolcengineSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    dashscope: DashScopeSettings = Field(default_factory=DashScopeSettings)
    diffusers: DiffusersSettings = Field(default_factory=DiffusersSettings)


class OpenAICompatSettings(BaseModel):
    wait_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long `POST /v1/images/generations` waits for its task before a 504 "
        "(the task goes on; follow it under /api/v1/tasks).",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATELIER_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    mode: Literal["local", "production"] = Field(
        default="local",
        description="`production` refuses to start with the default secret.",
    )
    data_dir: Path = Field(default=Path("data"), description="Where embedded state lives.")
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET),
        description="Signs session tokens. Must be changed outside local mode.",
    )
    host: str = Field(default="127.0.0.1", description="Address `atelier serve` binds.")
    port: int = Field(default=8000, description="Port `atelier serve` binds.")
    public_url: str = Field(
        default="", description="Base URL used in links given to clients; empty: relative."
    )
    log_level: str = Field(default="INFO", description="Log level.")
    log_json: bool = Field(default=False, description="Structured JSON logs.")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, `GET /metrics` requires `Authorization: Bearer <token>`.",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of the admin API (`/api/v1/admin/...`); unset, it answers "
        "403 `admin_disabled`.",
    )
    max_request_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1, description="Largest request body accepted."
    )
    fast_submit: bool = Field(
        default=True,
        description="Serve plain `POST /api/v1/tasks` requests without FastAPI's routing "
        "and dependency resolution (ADR 0006): the same answers at a fraction of the cost. "
        "Turn off to rule it out.",
    )
    web_dir: Path | None = Field(
        default=None,
        description="The built web UI served at `/` (`npm run build` output). Default: "
        "`web/dist` of the source checkout (editable installs); when missing, `/` says how "
        "to build it.",
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    providers: ProviderSettings = Field(default_factory=ProviderSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    openai: OpenAICompatSettings = Field(default_factory=OpenAICompatSettings)
    prompts: PromptSettings = Field(default_factory=PromptSettings)
    stylize: StylizeSettings = Field(default_factory=StylizeSettings)
    erase: EraseSettings = Field(default_factory=EraseSettings)
    watermark: WatermarkPolicy = Field(
        default_factory=WatermarkPolicy,
        description="Watermarks on generated images per owner class, as JSON, e.g. "
        '`{"classes": {"anonymous": {"text": "Atelier", "corner": "bottom-right"}}}`.',
    )
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    manga: MangaSettings = Field(default_factory=MangaSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.mode != "local" and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise ValueError("ATELIER_SECRET_KEY must be set to a private value outside local mode")
        return self

    # Derived values -------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.data_dir / 'atelier.db').resolve()}"

    @property
    def broker_url(self) -> str:
        if self.queue.broker_url:
            return self.queue.broker_url
        return f"embedded+sqlite:///{(self.data_dir / 'broker.db').resolve()}"

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url.startswith("embedded+")

    @property
    def event_backend(self) -> Literal["memory", "redis"]:
        if self.events.backend == "auto":
            return "redis" if self.event_redis_url else "memory"
        return self.events.backend

    @property
    def event_redis_url(self) -> str:
        if self.events.redis_url:
            return self.events.redis_url
        return self.broker_url if self.broker_url.startswith(("redis://", "rediss://")) else ""

    @property
    def storage_root(self) -> Path:
        return self.storage.local_root or (self.data_dir / "storage")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
