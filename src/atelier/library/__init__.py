"""The image library's engine: embeddings, vector indexes, hybrid search, analysis, duplicates.

Modules (import what you use; nothing heavy is imported by the package itself):

- :mod:`~atelier.library.embedding` — the ``Embedder`` / ``ImageEmbedder`` protocols, pooling;
- :mod:`~atelier.library.minilm` — all-MiniLM-L6-v2 run with numpy (the default);
- :mod:`~atelier.library.onnx_embedder` — sentence-embedding ONNX models (bge, e5...);
- :mod:`~atelier.library.api_embedder` — OpenAI-compatible ``/embeddings``;
- :mod:`~atelier.library.clip` — CLIP-family ONNX image/text towers, zero-shot tags;
- :mod:`~atelier.library.vectors` — ``VectorIndex``, ``UsearchIndex`` (HNSW), ``ExactIndex``;
- :mod:`~atelier.library.pgvector` — ``PgVectorIndex`` on PostgreSQL;
- :mod:`~atelier.library.textsearch` — bilingual tokens (jieba), BM25;
- :mod:`~atelier.library.hybrid` — ``HybridSearcher``: vector + tags + text, filters;
- :mod:`~atelier.library.analysis` — ``Analysis`` and the ``Analyzer`` protocol, EXIF;
- :mod:`~atelier.library.offline` / :mod:`~atelier.library.vlm` — the two analysers;
- :mod:`~atelier.library.colors` — dominant colours named in English and Chinese;
- :mod:`~atelier.library.dedup` — SHA-256, pHash/dHash, a BK-tree of near-duplicates;
- :mod:`~atelier.library.factory` — all of the above from settings.

See docs/library.md.
"""
