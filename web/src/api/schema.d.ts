/**
 * Generated from Atelier's OpenAPI document by `make web-client` (web/scripts/client.mjs).
 * Do not edit: `make test` fails when this file differs from a fresh generation.
 */

export interface paths {
    "/api/v1/admin/storage/endpoints": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Endpoints
         * @description Every endpoint with its health, the objects it holds and the copies still due.
         */
        get: operations["list_endpoints_api_v1_admin_storage_endpoints_get"];
        put?: never;
        /**
         * Add Endpoint
         * @description Add an endpoint (probed first: it must accept a write). A new endpoint is active and
         *     receives a copy of every object through the replication job.
         */
        post: operations["add_endpoint_api_v1_admin_storage_endpoints_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/storage/endpoints/{endpoint_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove Endpoint
         * @description Remove a drained (or down) endpoint, refused while it holds the only copy of any
         *     object. Its objects are left in place; nothing reads them any more.
         */
        delete: operations["remove_endpoint_api_v1_admin_storage_endpoints__endpoint_id__delete"];
        options?: never;
        head?: never;
        /**
         * Update Endpoint
         * @description Change an endpoint's name, role, state, read priority or weight.
         */
        patch: operations["update_endpoint_api_v1_admin_storage_endpoints__endpoint_id__patch"];
        trace?: never;
    };
    "/api/v1/admin/storage/endpoints/{endpoint_id}/drain": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Drain Endpoint
         * @description Stop writing to the endpoint; the replication job copies what it holds elsewhere.
         */
        post: operations["drain_endpoint_api_v1_admin_storage_endpoints__endpoint_id__drain_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List Users */
        get: operations["list_users_api_v1_admin_users_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users/{user_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Update User
         * @description Change a user's role or disable them (their tokens and keys stop working at once).
         *     The last enabled admin cannot be demoted or disabled (409 `last_admin`).
         */
        patch: operations["update_user_api_v1_admin_users__user_id__patch"];
        trace?: never;
    };
    "/api/v1/auth/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Api Keys
         * @description The user's keys that are not revoked (never the keys themselves).
         */
        get: operations["list_api_keys_api_v1_auth_api_keys_get"];
        put?: never;
        /**
         * Create Api Key
         * @description A new API key for the signed-in user. The key is in this answer only.
         */
        post: operations["create_api_key_api_v1_auth_api_keys_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/api-keys/{key_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke Api Key
         * @description Revoke a key: it is refused (401 `invalid_api_key`) from the next request.
         */
        delete: operations["revoke_api_key_api_v1_auth_api_keys__key_id__delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Login
         * @description Sign in: an access token (JWT) and a refresh token. Wrong email and wrong password
         *     get the same 401 `invalid_credentials`. The anonymous session is merged as on register.
         */
        post: operations["login_api_v1_auth_login_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Logout
         * @description End the sign-in the refresh token belongs to. Its access tokens lapse on their own
         *     (`expires_in`).
         */
        post: operations["logout_api_v1_auth_logout_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Me */
        get: operations["me_api_v1_auth_me_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Refresh
         * @description Exchange a refresh token for new tokens. The refresh token is spent: presenting it
         *     again revokes every token of its sign-in (401 `refresh_token_reused`).
         */
        post: operations["refresh_api_v1_auth_refresh_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/register": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Register
         * @description Create an account and sign in. What the caller's anonymous session made (session
         *     cookie or `Authorization: Bearer <session token>`) becomes the account's.
         */
        post: operations["register_api_v1_auth_register_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/erase": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Erase
         * @description Upload the photo (validated, turned upright, metadata stripped) and create an `erase`
         *     task for it. Same as `POST /api/v1/images` then `POST /api/v1/tasks` with `kind: erase`.
         */
        post: operations["erase_api_v1_erase_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/external/images": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Add Images
         * @description Add images to the key owner's library, from files and/or URLs, exactly as
         *     `POST /api/v1/library/images` does (duplicates reported, a `tag` task per new image).
         */
        post: operations["add_images_api_v1_external_images_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/external/images/{image_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Image
         * @description One image of the key owner's library: its URLs (fetch them with the same key), tags,
         *     descriptions and analysis.
         */
        get: operations["get_image_api_v1_external_images__image_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/external/random": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Random Images
         * @description `n` random images among those the filters allow.
         */
        get: operations["random_images_api_v1_external_random_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/external/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Search
         * @description Hybrid search of the key owner's library (see `GET /api/v1/library/search`).
         */
        get: operations["search_api_v1_external_search_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/generate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Generate
         * @description Text to image. Same as `POST /api/v1/tasks` with `kind: generate`.
         */
        post: operations["generate_api_v1_generate_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Health
         * @description Liveness, with the database: 200 when it answers; 503 otherwise. Orchestrators that
         *     must not restart a process because of a database outage probe `/ready` for traffic and
         *     this for life.
         */
        get: operations["health_api_v1_health_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * History
         * @description The caller's generations, newest first.
         */
        get: operations["history_api_v1_history_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/history/{task_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete History */
        delete: operations["delete_history_api_v1_history__task_id__delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/images": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upload Image
         * @description Upload an image (for example a photo to stylize). Orientation is applied and metadata
         *     (EXIF, GPS, XMP) stripped before it is stored.
         */
        post: operations["upload_image_api_v1_images_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/images/{image_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Image
         * @description The image bytes, for its owner or for a signed URL.
         */
        get: operations["get_image_api_v1_images__image_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/images/{image_id}/thumbnail": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get Thumbnail */
        get: operations["get_thumbnail_api_v1_images__image_id__thumbnail_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/library/collections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List Collections */
        get: operations["list_collections_api_v1_library_collections_get"];
        put?: never;
        /** Create Collection */
        post: operations["create_collection_api_v1_library_collections_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/library/collections/{collection_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Collection
         * @description The collection with its newest 100 images (`GET /library/images?collection=` pages
         *     through all).
         */
        get: operations["get_collection_api_v1_library_collections__collection_id__get"];
        put?: never;
        post?: never;
        /**
         * Delete Collection
         * @description Delete the collection (its images stay in the library).
         */
        delete: operations["delete_collection_api_v1_library_collections__collection_id__delete"];
        options?: never;
        head?: never;
        /** Update Collection */
        patch: operations["update_collection_api_v1_library_collections__collection_id__patch"];
        trace?: never;
    };
    "/api/v1/library/collections/{collection_id}/items": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Add Collection Items */
        post: operations["add_collection_items_api_v1_library_collections__collection_id__items_post"];
        /** Remove Collection Items */
        delete: operations["remove_collection_items_api_v1_library_collections__collection_id__items_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/library/collections/{collection_id}/share": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Share Collection
         * @description A token that opens `GET /api/v1/shared/{token}` to anyone (read-only, signed image
         *     URLs); the same token until revoked.
         */
        post: operations["share_collection_api_v1_library_collections__collection_id__share_post"];
        /** Unshare Collection */
        delete: operations["unshare_collection_api_v1_library_collections__collection_id__share_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/library/images": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Library Images
         * @description Your library, newest first, filtered; follow `next_cursor` for more.
         */
        get: operations["list_library_images_api_v1_library_images_get"];
        put?: never;
        /**
         * Import Library Images
         * @description Import images into the library, from files and/or URLs. Exact duplicates of your
         *     images are not stored again (`status: duplicate`, with the existing id); near duplicates
         *     are stored and listed. Each new image gets a `tag` task (analysis → embedding →
         *     indexing); with several items, `batch_task_id` follows them all.
         */
        post: operations["import_library_images_api_v1_library_images_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/library/images/{image_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Library Image
         * @description One image with its tags, descriptions, collections and the whole analysis.
         */
        get: operations["get_library_image_api_v1_library_images__image_id__get"];
        put?: never;
        post?: never;
        /**
         * Delete Library Image
         * @description Delete the image: its rows, its vectors and its bytes.
         */
        delete: operations["delete_library_image_api_v1_library_images__image_id__delete"];
        options?: never;
        head?: never;
        /**
         * Patch Library Image
         * @description Edit your tags (they replace your earlier ones; the analyser's stay) and the title; a
         *     `tag` task then computes the embedding again.
         */
        patch: operations["patch_library_image_api_v1_library_images__image_id__patch"];
        trace?: never;
    };
    "/api/v1/library/images/{image_id}/similar": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Similar Images
         * @description Images like this one: by CLIP image embedding when a CLIP model is configured, else
         *     by the embedding of tags and descriptions. Paged by `offset` (`next_offset`).
         */
        get: operations["similar_images_api_v1_library_images__image_id__similar_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/library/random": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Random Images
         * @description `n` images picked at random among those the filters allow.
         */
        get: operations["random_images_api_v1_library_random_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/library/reembed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reembed Library
         * @description Re-embed the library with the configured models (after `LIBRARY__EMBEDDER` or
         *     `LIBRARY__CLIP_MODEL` changed): a background `reembed` task with progress; vectors of
         *     other models are deleted at its end. 409 `reembed_not_needed` when nothing is stale. It
         *     re-embeds every owner's images: in `production` mode it needs an admin account (401
         *     `authentication_required`, 403 `forbidden`).
         */
        post: operations["reembed_library_api_v1_library_reembed_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/library/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Search Library
         * @description Hybrid search: meaning (vector similarity), tags and full text (BM25), weighted by
         *     `LIBRARY__WEIGHT_*`. Each hit tells which parts matched. An empty `q` lists the images
         *     the filters allow, newest first. Paged by `offset` (`next_offset` says where the next
         *     page starts).
         */
        get: operations["search_library_api_v1_library_search_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/library/search/image": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Search By Image
         * @description Search by example (an upload or one of your images), by CLIP image similarity. Without
         *     a CLIP model configured: 409 `image_embedder_unavailable`. Paged by `offset`.
         */
        post: operations["search_by_image_api_v1_library_search_image_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/limits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * My Limits
         * @description The caller's class, its rate limits (what is left now) and its task quotas (what is
         *     used); see docs/limits.md. Reading them spends one request like any other call.
         */
        get: operations["my_limits_api_v1_limits_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/manga": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create Manga
         * @description Submit a story. Same as `POST /api/v1/tasks` with `kind: manga`; follow it with
         *     `GET /api/v1/manga/{task_id}` or the task's stream.
         */
        post: operations["create_manga_api_v1_manga_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/manga/{task_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Manga
         * @description The job: status and stage, the script, each panel's versions with their child tasks'
         *     progress and images, the current page and its export links, the failed panels.
         */
        get: operations["get_manga_api_v1_manga__task_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/manga/{task_id}/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Export Page
         * @description The current page as a file (`Content-Disposition: attachment`).
         */
        get: operations["export_page_api_v1_manga__task_id__export_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/manga/{task_id}/page": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Compose Page
         * @description Compose and store the page again from the selected versions (the next page version);
         *     answers when it is stored.
         */
        post: operations["compose_page_api_v1_manga__task_id__page_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/manga/{task_id}/panels/{panel_number}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Panel
         * @description One panel with every version.
         */
        get: operations["get_panel_api_v1_manga__task_id__panels__panel_number__get"];
        /**
         * Select Version
         * @description Choose the version (a completed one) the page shows for this panel.
         */
        put: operations["select_version_api_v1_manga__task_id__panels__panel_number__put"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/manga/{task_id}/panels/{panel_number}/versions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Regenerate Panel
         * @description Draw the panel again (optionally from a new scene text or seed) as its next version:
         *     a child task of the job, followed like any task. Earlier versions are kept; select the
         *     new one with `PUT …/panels/{n}` once it completed, then `POST …/page`.
         */
        post: operations["regenerate_panel_api_v1_manga__task_id__panels__panel_number__versions_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Models
         * @description Every model this installation can run, with its provider kind and limits.
         */
        get: operations["list_models_api_v1_models_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/presets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Presets
         * @description Every style and location preset, named and described in one language.
         */
        get: operations["list_presets_api_v1_presets_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/presets/{kind}/{preset_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Preset
         * @description One preset with its prompt fragments. ``kind`` is ``styles`` or ``locations``.
         */
        get: operations["get_preset_api_v1_presets__kind___preset_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Providers
         * @description Configured providers and routes, with health (success rate of the last calls) and, over
         *     the window: calls, latency p50/p95, failures by class, retries, fallbacks, cache hits.
         */
        get: operations["list_providers_api_v1_providers_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Ready
         * @description Readiness: 200 when the database, the broker and the storage all answer, else 503
         *     with what failed. (`/health` is liveness: it only says the process serves.)
         */
        get: operations["ready_api_v1_ready_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/shared/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Shared Collection
         * @description A shared collection: its images with signed URLs, no session needed.
         */
        get: operations["shared_collection_api_v1_shared__token__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/stylize": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stylize
         * @description Upload the photo (validated, turned upright, metadata stripped) and create a
         *     `stylize` task for it. Same as `POST /api/v1/images` then `POST /api/v1/tasks`.
         */
        post: operations["stylize_api_v1_stylize_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/system/info": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** System Info */
        get: operations["system_info_api_v1_system_info_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/task/{task_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get Legacy Task */
        get: operations["get_legacy_task_api_v1_task__task_id__get"];
        put?: never;
        post?: never;
        /** Delete Legacy Task */
        delete: operations["delete_legacy_task_api_v1_task__task_id__delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List Tasks */
        get: operations["list_tasks_api_v1_tasks_get"];
        put?: never;
        /**
         * Create Task
         * @description Submit a task. Repeating an `Idempotency-Key` returns the first task (200).
         */
        post: operations["create_task_api_v1_tasks_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tasks/{task_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get Task */
        get: operations["get_task_api_v1_tasks__task_id__get"];
        put?: never;
        post?: never;
        /**
         * Delete Task
         * @description Delete a task, its events and its images (bytes too). A running task is cancelled.
         */
        delete: operations["delete_task_api_v1_tasks__task_id__delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tasks/{task_id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel Task
         * @description A queued task never starts; a running one stops at its next step.
         */
        post: operations["cancel_task_api_v1_tasks__task_id__cancel_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/tasks/{task_id}/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Stream Task
         * @description Server-Sent Events: `id` is the task's event sequence number; the stream ends after
         *     the terminal event. Reconnect with `Last-Event-ID` to resume.
         */
        get: operations["stream_task_api_v1_tasks__task_id__stream_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Metrics
         * @description Prometheus metrics (text exposition format): queue depth, tasks finished, success
         *     rate, run-time quantiles per kind and provider, failure classes, provider calls, live
         *     workers and their GPUs; this API process's memory and CPU, rate-limit checks let through
         *     while Redis was down, and submissions served on the fast path.
         */
        get: operations["metrics_metrics_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/images/edits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Edit Image
         * @description `images.edit`: the image is uploaded, a `stylize` task runs with the prompt as its
         *     text, and the results come back as in `generations`. A mask is accepted but ignored by
         *     the offline stylizer.
         */
        post: operations["edit_image_v1_images_edits_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/images/generations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create Image
         * @description `images.generate`: waits for the task and returns `b64_json` (default) or signed
         *     `url`s valid for an hour.
         */
        post: operations["create_image_v1_images_generations_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List Models */
        get: operations["list_models_v1_models_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** ApiKeyCreate */
        ApiKeyCreate: {
            /** Expires In Days */
            expires_in_days?: number | null;
            /** Name */
            name: string;
            /**
             * Scopes
             * @description `["read"]` or `["read", "write"]`.
             */
            scopes: ("read" | "write")[];
        };
        /** ApiKeyCreated */
        ApiKeyCreated: {
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Expires At */
            expires_at: string | null;
            /** Id */
            id: string;
            /**
             * Key
             * @description The key itself; shown this once, never again.
             */
            key: string;
            /** Last Used At */
            last_used_at: string | null;
            /** Name */
            name: string;
            /**
             * Prefix
             * @description The first characters of the key.
             */
            prefix: string;
            /** Scopes */
            scopes: ("read" | "write")[];
        };
        /** ApiKeyOut */
        ApiKeyOut: {
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Expires At */
            expires_at: string | null;
            /** Id */
            id: string;
            /** Last Used At */
            last_used_at: string | null;
            /** Name */
            name: string;
            /**
             * Prefix
             * @description The first characters of the key.
             */
            prefix: string;
            /** Scopes */
            scopes: ("read" | "write")[];
        };
        /** ApiKeyPage */
        ApiKeyPage: {
            /** Items */
            items: components["schemas"]["ApiKeyOut"][];
        };
        /** Body_add_images_api_v1_external_images_post */
        Body_add_images_api_v1_external_images_post: {
            /**
             * Files
             * @description Images to add.
             */
            files?: Blob[] | null;
            /**
             * Tags
             * @description Tags for every image (they skip the analysis).
             */
            tags?: string[] | null;
            /** Title */
            title?: string | null;
            /**
             * Urls
             * @description Image URLs: a JSON array, one per line, or the field repeated.
             */
            urls?: string[] | null;
        };
        /** Body_edit_image_v1_images_edits_post */
        Body_edit_image_v1_images_edits_post: {
            /**
             * Image
             * @description The image to edit (first one used).
             */
            image: Blob[];
            /** Mask */
            mask?: Blob | null;
            /** Model */
            model?: string | null;
            /**
             * N
             * @default 1
             */
            n: number;
            /** Prompt */
            prompt: string;
            /** Response Format */
            response_format?: ("url" | "b64_json") | null;
            /** Size */
            size?: string | null;
        };
        /** Body_erase_api_v1_erase_post */
        Body_erase_api_v1_erase_post: {
            /** Blur Radius */
            blur_radius?: number | null;
            /** Edge */
            edge?: number | null;
            /** Inpainter */
            inpainter?: ("auto" | "opencv" | "lama" | "diffusers") | null;
            /**
             * Keep
             * @description Text to keep (repeat the field for more).
             */
            keep?: string[] | null;
            /** Mask Margin */
            mask_margin?: number | null;
            /** Min Confidence */
            min_confidence?: number | null;
            /**
             * Photo
             * @description JPEG, PNG, WebP (HEIC with the extra).
             */
            photo: Blob;
            /** Redraw */
            redraw?: ("blur" | "color" | "preset" | "prompt") | null;
            /** Redraw Color */
            redraw_color?: string | null;
            /** Redraw Model */
            redraw_model?: string | null;
            /** Redraw Preset */
            redraw_preset?: string | null;
            /** Redraw Prompt */
            redraw_prompt?: string | null;
            /**
             * Roi
             * @description x,y,width,height
             */
            roi?: string | null;
            /**
             * Second Pass
             * @default true
             */
            second_pass: boolean;
            /** Seed */
            seed?: number | null;
            /** Segmenter */
            segmenter?: ("auto" | "onnx" | "people" | "classical" | "none") | null;
            /** Webhook Url */
            webhook_url?: string | null;
        };
        /** Body_import_library_images_api_v1_library_images_post */
        Body_import_library_images_api_v1_library_images_post: {
            /**
             * Files
             * @description Images (JPEG, PNG, WebP, GIF, BMP, TIFF).
             */
            files?: Blob[] | null;
            /**
             * Tags
             * @description Your tags for every image: a JSON array, comma-separated, or repeated.
             */
            tags?: string[] | null;
            /** Title */
            title?: string | null;
            /**
             * Urls
             * @description Image URLs: a JSON array, one per line, or the field repeated.
             */
            urls?: string[] | null;
        };
        /** Body_search_by_image_api_v1_library_search_image_post */
        Body_search_by_image_api_v1_library_search_image_post: {
            /**
             * File
             * @description The example image.
             */
            file?: Blob | null;
            /**
             * Image Id
             * @description Or one of yours.
             */
            image_id?: string | null;
        };
        /** Body_stylize_api_v1_stylize_post */
        Body_stylize_api_v1_stylize_post: {
            /**
             * Language
             * @default en
             * @enum {string}
             */
            language: "en" | "zh";
            /** Location */
            location?: string | null;
            /** Model */
            model?: string | null;
            /**
             * Num Images
             * @default 1
             */
            num_images: number;
            /**
             * Photo
             * @description JPEG, PNG, WebP (HEIC with the extra).
             */
            photo: Blob;
            /** Seed */
            seed?: number | null;
            /** Strength */
            strength?: number | null;
            /** Style */
            style?: string | null;
            /**
             * Text
             * @default
             */
            text: string;
            /** Webhook Url */
            webhook_url?: string | null;
        };
        /** Body_upload_image_api_v1_images_post */
        Body_upload_image_api_v1_images_post: {
            /**
             * File
             * @description JPEG, PNG, WebP, GIF, BMP or TIFF.
             */
            file: Blob;
        };
        /**
         * Character
         * @description One entry of the character sheet: the same words describe the character in every
         *     panel prompt, which is what keeps a character recognisable from panel to panel.
         */
        Character: {
            /**
             * Description
             * @default
             */
            description: string;
            /**
             * Description En
             * @default
             */
            description_en: string;
            /** Name */
            name: string;
        };
        /** CollectionDetail */
        CollectionDetail: {
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Description */
            description: string;
            /** Id */
            id: string;
            /** Image Count */
            image_count: number;
            /**
             * Items
             * @description The newest 100 images.
             */
            items: components["schemas"]["LibraryImageOut"][];
            /** Name */
            name: string;
            /** Share Token */
            share_token: string | null;
            /**
             * Updated At
             * Format: date-time
             */
            updated_at: string;
        };
        /** CollectionIn */
        CollectionIn: {
            /**
             * Description
             * @default
             */
            description: string;
            /** Name */
            name: string;
        };
        /** CollectionOut */
        CollectionOut: {
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Description */
            description: string;
            /** Id */
            id: string;
            /** Image Count */
            image_count: number;
            /** Name */
            name: string;
            /** Share Token */
            share_token: string | null;
            /**
             * Updated At
             * Format: date-time
             */
            updated_at: string;
        };
        /** CollectionPage */
        CollectionPage: {
            /** Items */
            items: components["schemas"]["CollectionOut"][];
        };
        /** CollectionPatch */
        CollectionPatch: {
            /** Description */
            description?: string | null;
            /** Name */
            name?: string | null;
        };
        /** DailyQuotaOut */
        DailyQuotaOut: {
            /**
             * Limit
             * @description Null: no quota.
             */
            limit: number | null;
            /**
             * Next Free In
             * @description Seconds until the oldest task counted leaves the window.
             */
            next_free_in: number | null;
            /** Remaining */
            remaining: number | null;
            /** Used */
            used: number;
            /**
             * Window Seconds
             * @description The quota counts tasks created in this window.
             */
            window_seconds: number;
        };
        /**
         * Dialogue
         * @description A spoken line; ``speaker`` is a character's name, or None when nobody can tell.
         */
        Dialogue: {
            /** Speaker */
            speaker?: string | null;
            /** Text */
            text: string;
        };
        /** EndpointIn */
        EndpointIn: {
            /**
             * Id
             * @description Lower-case letters, digits, - and _.
             */
            id: string;
            /**
             * Name
             * @default
             */
            name: string;
            /**
             * Read Priority
             * @default 100
             */
            read_priority: number;
            /**
             * Read Weight
             * @default 1
             */
            read_weight: number;
            /**
             * Role
             * @default backup
             * @enum {string}
             */
            role: "primary" | "backup";
            /**
             * Root
             * @description `local`: directory.
             */
            root?: string | null;
            /** @description `s3`: the bucket. */
            s3?: components["schemas"]["S3EndpointIn"] | null;
            /**
             * Type
             * @enum {string}
             */
            type: "local" | "s3";
        };
        /** EndpointList */
        EndpointList: {
            /** Endpoints */
            endpoints: components["schemas"]["EndpointView"][];
            /**
             * Multi
             * @description Multi-endpoint storage is on.
             */
            multi: boolean;
            /**
             * Pending Replicas
             * @description Copies due on all endpoints.
             */
            pending_replicas: number | null;
        };
        /** EndpointPatch */
        EndpointPatch: {
            /** Name */
            name?: string | null;
            /** Read Priority */
            read_priority?: number | null;
            /** Read Weight */
            read_weight?: number | null;
            /** Role */
            role?: ("primary" | "backup") | null;
            /** State */
            state?: ("active" | "draining" | "down") | null;
        };
        /** EndpointView */
        EndpointView: {
            /** Checked At */
            checked_at?: string | null;
            /**
             * Deleting
             * @description Deletions to retry here.
             */
            deleting: number | null;
            /**
             * Failed
             * @description Of those, copies whose last attempt failed.
             */
            failed: number | null;
            /** Health Error */
            health_error?: string | null;
            /**
             * Healthy
             * @description Last probe or operation; null: never checked.
             */
            healthy: boolean | null;
            /** Id */
            id: string;
            /**
             * Location
             * @description Directory, or endpoint URL / bucket / prefix.
             */
            location: string;
            /** Name */
            name: string;
            /**
             * Needs Scan
             * @default false
             */
            needs_scan: boolean;
            /**
             * Objects
             * @description Objects held (null without multi storage).
             */
            objects: number | null;
            /**
             * Pending
             * @description Copies due here (pending or failed).
             */
            pending: number | null;
            /** Probe Ms */
            probe_ms?: number | null;
            /** Read Priority */
            read_priority: number;
            /** Read Weight */
            read_weight: number;
            /** Role */
            role: string;
            /**
             * Source
             * @description `settings` or `admin`.
             */
            source: string;
            /** State */
            state: string;
            /** Type */
            type: string;
        };
        /**
         * FailureOut
         * @description A panel whose selected version finished without an image.
         */
        FailureOut: {
            /** Code */
            code: string;
            /** Message */
            message: string;
            /** Panel Number */
            panel_number: number;
            /** Task Id */
            task_id: string;
            /** Version */
            version: number;
        };
        /** GenerateCreated */
        GenerateCreated: {
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Estimated Time */
            estimated_time: number | null;
            /** Queue Position */
            queue_position?: number | null;
            /** Status */
            status: string;
            /** Task Id */
            task_id: string;
        };
        /** GenerateParams */
        GenerateParams: {
            /**
             * Height
             * @description Height in pixels.
             * @default 512
             */
            height: number;
            /**
             * Model
             * @description Model id from `GET /api/v1/models`.
             */
            model?: string | null;
            /**
             * Negative Prompt
             * @description What to avoid.
             * @default
             */
            negative_prompt: string;
            /**
             * Num Images
             * @description Images in this task.
             * @default 1
             */
            num_images: number;
            /**
             * Prompt
             * @description What to draw.
             */
            prompt: string;
            /**
             * Scale
             * @description Guidance scale.
             * @default 0
             */
            scale: number;
            /**
             * Seed
             * @description Seed; chosen at random when absent.
             */
            seed?: number | null;
            /**
             * Steps
             * @description Sampling steps.
             * @default 8
             */
            steps: number;
            /**
             * Width
             * @description Width in pixels.
             * @default 512
             */
            width: number;
        };
        /** GenerationRequest */
        GenerationRequest: {
            /** Model */
            model?: string | null;
            /**
             * N
             * @default 1
             */
            n: number;
            /** Prompt */
            prompt: string;
            /** Response Format */
            response_format?: ("url" | "b64_json") | null;
            /** Seed */
            seed?: number | null;
            /**
             * Size
             * @default auto
             */
            size: string | null;
        } & {
            [key: string]: unknown;
        };
        /** HistoryPage */
        HistoryPage: {
            /** Items */
            items: components["schemas"]["LegacyTask"][];
            /** Next Cursor */
            next_cursor: string | null;
        };
        /** HTTPValidationError */
        HTTPValidationError: {
            /** Detail */
            detail?: components["schemas"]["ValidationError"][];
        };
        /** ImageOut */
        ImageOut: {
            /** Content Type */
            content_type: string;
            /** File Size */
            file_size: number;
            /** Format */
            format: string;
            /** Height */
            height: number;
            /** Image Id */
            image_id: string;
            /** Seed */
            seed?: number | null;
            /** Thumbnail Url */
            thumbnail_url: string;
            /** Url */
            url: string;
            /** Width */
            width: number;
        };
        /** ImagePage */
        ImagePage: {
            /** Items */
            items: components["schemas"]["LibraryImageOut"][];
            /** Next Cursor */
            next_cursor: string | null;
        };
        /** ImagePatch */
        ImagePatch: {
            /**
             * Tags
             * @description Replaces the user's tags.
             */
            tags?: string[] | null;
            /**
             * Title
             * @description `null` clears it.
             */
            title?: string | null;
        };
        /** ImportItem */
        ImportItem: {
            /** Filename */
            filename: string | null;
            /** Image Id */
            image_id: string;
            /** Near Duplicates */
            near_duplicates: components["schemas"]["NearDuplicate"][];
            /**
             * Status
             * @enum {string}
             */
            status: "created" | "duplicate";
            /**
             * Task Id
             * @description The image's `tag` task; none for a duplicate.
             */
            task_id: string | null;
            /** Url */
            url: string | null;
        };
        /** ImportOut */
        ImportOut: {
            /**
             * Batch Task Id
             * @description With more than one item: the parent task whose progress covers every tag task.
             */
            batch_task_id: string | null;
            /** Items */
            items: components["schemas"]["ImportItem"][];
        };
        /** ItemsIn */
        ItemsIn: {
            /** Image Ids */
            image_ids: string[];
        };
        /** LegacyTask */
        LegacyTask: {
            /** Completed At */
            completed_at?: string | null;
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            error?: components["schemas"]["TaskError"] | null;
            /**
             * Images
             * @default []
             */
            images: {
                [key: string]: unknown;
            }[];
            /** Progress */
            progress: number;
            /** Prompt */
            prompt?: string | null;
            /** Stage */
            stage?: string | null;
            /** Started At */
            started_at?: string | null;
            /** Status */
            status: string;
            /** Task Id */
            task_id: string;
        };
        /** LibraryImageDetail */
        LibraryImageDetail: {
            /**
             * Analysis
             * @description Everything the analyser found: colours, faces, text, EXIF, safety score.
             */
            analysis: {
                [key: string]: unknown;
            } | null;
            /** Analyzed At */
            analyzed_at: string | null;
            /** Analyzer */
            analyzer: string | null;
            /** Collections */
            collections: string[];
            /** Content Type */
            content_type: string;
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Description En */
            description_en: string;
            /** Description Zh */
            description_zh: string;
            /** File Size */
            file_size: number;
            /** Format */
            format: string;
            /** Height */
            height: number;
            /** Image Id */
            image_id: string;
            /**
             * Near Duplicates
             * @description Your other images that look the same (perceptual hash within `LIBRARY__NEAR_DUPLICATE_DISTANCE` bits), nearest first.
             */
            near_duplicates?: components["schemas"]["NearDuplicate"][];
            /** Original Filename */
            original_filename: string | null;
            /** Sha256 */
            sha256: string;
            /**
             * Source
             * @description `upload`, `url` or `generated`.
             */
            source: string;
            /** Source Url */
            source_url: string | null;
            /**
             * Status
             * @description Analysis: `pending`, `done` or `failed`.
             */
            status: string;
            /** Tag Task Id */
            tag_task_id: string | null;
            /** Tags */
            tags: components["schemas"]["TagOut"][];
            /** Thumbnail Url */
            thumbnail_url: string;
            /** Title */
            title: string | null;
            /** Url */
            url: string;
            /** Width */
            width: number;
        };
        /** LibraryImageOut */
        LibraryImageOut: {
            /** Analyzed At */
            analyzed_at: string | null;
            /** Analyzer */
            analyzer: string | null;
            /** Collections */
            collections: string[];
            /** Content Type */
            content_type: string;
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Description En */
            description_en: string;
            /** Description Zh */
            description_zh: string;
            /** File Size */
            file_size: number;
            /** Format */
            format: string;
            /** Height */
            height: number;
            /** Image Id */
            image_id: string;
            /** Original Filename */
            original_filename: string | null;
            /** Sha256 */
            sha256: string;
            /**
             * Source
             * @description `upload`, `url` or `generated`.
             */
            source: string;
            /** Source Url */
            source_url: string | null;
            /**
             * Status
             * @description Analysis: `pending`, `done` or `failed`.
             */
            status: string;
            /** Tag Task Id */
            tag_task_id: string | null;
            /** Tags */
            tags: components["schemas"]["TagOut"][];
            /** Thumbnail Url */
            thumbnail_url: string;
            /** Title */
            title: string | null;
            /** Url */
            url: string;
            /** Width */
            width: number;
        };
        /** LimitsOut */
        LimitsOut: {
            /**
             * Dispatch Per Owner
             * @description Fair dispatch: most of one owner's tasks queued ahead of others' per queue; 0: first come, first served.
             */
            dispatch_per_owner: number;
            /**
             * Enabled
             * @description Whether rate limits and quotas apply on this server.
             */
            enabled: boolean;
            /** Owner */
            owner: string;
            /**
             * Owner Class
             * @description `anon`, `user` or `admin`.
             * @enum {string}
             */
            owner_class: "anon" | "user" | "admin";
            quotas: components["schemas"]["QuotasOut"];
            /** Rates */
            rates: components["schemas"]["RateOut"][];
        };
        /** LoginIn */
        LoginIn: {
            /** Email */
            email: string;
            /** Password */
            password: string;
        };
        /**
         * MangaCreate
         * @description `POST /api/v1/manga`: the `manga` task's params, plus an optional webhook.
         */
        MangaCreate: {
            /**
             * Language
             * @description The story's language; detected when omitted.
             */
            language?: ("zh" | "en") | null;
            /**
             * Layout
             * @description Page layout template (needs `panels`); default: chosen for the script.
             */
            layout?: string | null;
            /**
             * Model
             * @description Text-to-image model or route for the panels.
             */
            model?: string | null;
            /**
             * Page Format
             * @description Encoding of the stored page image.
             */
            page_format?: ("png" | "webp") | null;
            /**
             * Panels
             * @description Panels on the page, 1 to 8, or `auto` (from the story's length).
             * @default auto
             */
            panels: number | "auto";
            /**
             * Reading Direction
             * @description `ltr` (manhua, comics) or `rtl` (Japanese manga).
             */
            reading_direction?: ("ltr" | "rtl") | null;
            /**
             * Seed
             * @description Base seed; default: derived from the script (a retried job draws the same panels).
             */
            seed?: number | null;
            /**
             * Story
             * @description The story, Chinese or English; at most `MANGA__MAX_STORY_CHARS` characters.
             */
            story: string;
            /**
             * Style
             * @description Style preset of the panel prompts.
             */
            style?: string | null;
            /**
             * Webhook Url
             * @description Called when the task ends (signed).
             */
            webhook_url?: string | null;
            /**
             * Writer
             * @description Story writer: `offline` or `chat`.
             */
            writer?: string | null;
        };
        /**
         * MangaJobOut
         * @description Everything about a manga job: the task's state, the script, each panel's versions, the
         *     current page and its exports. ``script`` and ``panels`` are empty until the scenes are
         *     written; ``page`` is null until the first page is stored.
         */
        MangaJobOut: {
            /** Attempts */
            attempts: number;
            /** Base Seed */
            base_seed: number | null;
            /** Completed At */
            completed_at: string | null;
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            error: components["schemas"]["TaskError"] | null;
            /**
             * Exports
             * @description Format (`png`, `webp`, `pdf`, `cbz`) -> download URL of the current page.
             */
            exports: {
                [key: string]: string;
            };
            /**
             * Failures
             * @description Panels whose selected version failed: drawn as placeholders.
             */
            failures: components["schemas"]["FailureOut"][];
            /** Language */
            language: string | null;
            /**
             * Layout
             * @description The layout template.
             */
            layout: string | null;
            /** Model */
            model: string | null;
            page: components["schemas"]["PageOut"] | null;
            /** Page Format */
            page_format: string | null;
            /** Panels */
            panels: components["schemas"]["PanelOut"][];
            /** Progress */
            progress: number;
            /** Reading Direction */
            reading_direction: string | null;
            script: components["schemas"]["Script"] | null;
            /**
             * Stage
             * @description `scene_generation`, `panel_processing`, `layout`, `uploading`, `done`.
             */
            stage: string | null;
            /** @description In `panel_processing`: panels finished. */
            stage_progress: components["schemas"]["StageProgress"];
            /** Started At */
            started_at: string | null;
            /**
             * Status
             * @description The parent task's status (`partial`: some panels failed).
             */
            status: string;
            /** Task Id */
            task_id: string;
            /** Title */
            title: string | null;
            /**
             * Updated At
             * Format: date-time
             */
            updated_at: string;
            /** Writer */
            writer: string | null;
        };
        /** MeOut */
        MeOut: {
            /**
             * Auth
             * @enum {string}
             */
            auth: "token" | "api_key";
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Disabled */
            disabled: boolean;
            /** Display Name */
            display_name: string;
            /** Email */
            email: string;
            /** Id */
            id: string;
            /** Last Login At */
            last_login_at: string | null;
            /**
             * Owner
             * @description The owner id of the user's tasks and images.
             */
            owner: string;
            /**
             * Role
             * @enum {string}
             */
            role: "user" | "admin";
            /** Scopes */
            scopes: ("read" | "write")[];
        };
        /** NearDuplicate */
        NearDuplicate: {
            /**
             * Distance
             * @description Hamming distance of the 64-bit perceptual hashes.
             */
            distance: number;
            /** Image Id */
            image_id: string;
        };
        /** PageOut */
        PageOut: {
            image: components["schemas"]["ImageOut"];
            /**
             * Layout
             * @description The layout report: template, size, per panel its cell and faces, per caption or balloon its box, text box, font size, lines and tail.
             */
            layout: {
                [key: string]: unknown;
            };
            /**
             * Panels
             * @description Panel number -> the version the page shows.
             */
            panels: {
                [key: string]: number;
            };
            /**
             * Stale
             * @description The selected versions differ from those on the page.
             */
            stale: boolean;
            /**
             * Version
             * @description 1 for the task's page, +1 per re-composition.
             */
            version: number;
        };
        /** Panel */
        Panel: {
            /**
             * Caption
             * @default
             */
            caption: string;
            /**
             * Characters
             * @default []
             */
            characters: string[];
            /**
             * Dialogue
             * @default []
             */
            dialogue: components["schemas"]["Dialogue"][];
            /** Panel Number */
            panel_number: number;
            /** Scene Description */
            scene_description: string;
            /**
             * Setting
             * @default
             */
            setting: string;
            /**
             * Shot
             * @default medium
             * @enum {string}
             */
            shot: "wide" | "medium" | "close-up";
            /**
             * Source Text
             * @default
             */
            source_text: string;
            /**
             * Visual Tags
             * @default []
             */
            visual_tags: string[];
        };
        /** PanelOut */
        PanelOut: {
            /** Panel Number */
            panel_number: number;
            /** Selected Version */
            selected_version: number | null;
            /** Versions */
            versions: components["schemas"]["PanelVersionOut"][];
        };
        /**
         * PanelVersionOut
         * @description One version of a panel: the child task that draws it and its image once drawn.
         */
        PanelVersionOut: {
            /** Attempts */
            attempts: number;
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            error: components["schemas"]["TaskError"] | null;
            /** @description The panel image (WebP), once completed. */
            image: components["schemas"]["ImageOut"] | null;
            /** Progress */
            progress: number;
            /** Seed */
            seed: number;
            /**
             * Selected
             * @description Whether the page uses this version.
             */
            selected: boolean;
            /**
             * Stage
             * @description `image_generation` (steps), then `uploading`.
             */
            stage: string | null;
            stage_progress: components["schemas"]["StageProgress"];
            /**
             * Status
             * @description `pending`, `processing`, `retrying`, `completed`, `failed`…
             */
            status: string;
            /**
             * Task Id
             * @description The child task (`GET /api/v1/tasks/{id}` and its stream).
             */
            task_id: string;
            /**
             * Text
             * @description The scene text given when regenerating, if any.
             */
            text: string | null;
            /** Version */
            version: number;
        };
        /** Parts */
        Parts: {
            /** Tags */
            tags: number;
            /** Text */
            text: number;
            /** Vector */
            vector: number;
        };
        /** PatchOut */
        PatchOut: {
            image: components["schemas"]["LibraryImageDetail"];
            /**
             * Task Id
             * @description The `tag` task that computes the new embedding.
             */
            task_id: string | null;
        };
        /** PresetDetail */
        PresetDetail: {
            /** Description */
            description: string;
            /** Id */
            id: string;
            /**
             * Kind
             * @enum {string}
             */
            kind: "style" | "location";
            /**
             * Language
             * @enum {string}
             */
            language: "zh" | "en";
            /** Name */
            name: string;
            /**
             * Negative Prompt
             * @description The fragment it adds to the negative prompt.
             */
            negative_prompt: string;
            /** @description Suggested strength, guidance and steps. */
            params: components["schemas"]["SuggestedParams"];
            preview: components["schemas"]["Preview"];
            /**
             * Prompt
             * @description The fragment this preset adds to the prompt.
             */
            prompt: string;
            /** Tags */
            tags: string[];
        };
        /** PresetListing */
        PresetListing: {
            /**
             * Language
             * @enum {string}
             */
            language: "zh" | "en";
            /** Locations */
            locations: components["schemas"]["PresetSummary"][];
            /** Styles */
            styles: components["schemas"]["PresetSummary"][];
        };
        /** PresetSummary */
        PresetSummary: {
            /** Description */
            description: string;
            /** Id */
            id: string;
            /**
             * Kind
             * @enum {string}
             */
            kind: "style" | "location";
            /** Name */
            name: string;
            /** @description Suggested strength, guidance and steps. */
            params: components["schemas"]["SuggestedParams"];
            preview: components["schemas"]["Preview"];
            /** Tags */
            tags: string[];
        };
        /**
         * Preview
         * @description What a UI may show before a real thumbnail exists: a swatch and an emoji.
         */
        Preview: {
            /**
             * Accent
             * @description Second colour for a gradient.
             */
            accent?: string | null;
            /**
             * Colour
             * @description Main swatch colour, `#RRGGBB`.
             */
            colour: string;
            /**
             * Thumbnail
             * @description An emoji hint.
             * @default
             */
            thumbnail: string;
        };
        /** QuotaOut */
        QuotaOut: {
            /**
             * Limit
             * @description Null: no quota.
             */
            limit: number | null;
            /** Remaining */
            remaining: number | null;
            /** Used */
            used: number;
        };
        /** QuotasOut */
        QuotasOut: {
            concurrent: components["schemas"]["QuotaOut"];
            daily: components["schemas"]["DailyQuotaOut"];
        };
        /** RateOut */
        RateOut: {
            /**
             * Burst
             * @description How many may come at once; null: unlimited.
             */
            burst: number | null;
            /**
             * Kind
             * @enum {string}
             */
            kind: "requests" | "submissions";
            /**
             * Per Minute
             * @description Steady rate; null: unlimited.
             */
            per_minute: number | null;
            /**
             * Remaining
             * @description How many may be made now.
             */
            remaining: number | null;
            /**
             * Reset
             * @description Seconds until the full burst is available again.
             */
            reset: number | null;
            /**
             * Scope
             * @enum {string}
             */
            scope: "ip" | "session" | "user";
        };
        /** ReembedOut */
        ReembedOut: {
            /** Created */
            created: boolean;
            /** Plan */
            plan: {
                [key: string]: unknown;
            };
            /** Status */
            status: string;
            /** Task Id */
            task_id: string;
        };
        /** RefreshIn */
        RefreshIn: {
            /** Refresh Token */
            refresh_token: string;
        };
        /**
         * RegenerateIn
         * @description `POST /api/v1/manga/{task_id}/panels/{n}/versions`.
         */
        RegenerateIn: {
            /**
             * Seed
             * @description Default: the next seed of the panel's sequence (base seed, panel, version).
             */
            seed?: number | null;
            /**
             * Text
             * @description A new scene description for this panel's prompt; default: the latest version's (the script's unless a version changed it). The lettering stays the script's.
             */
            text?: string | null;
        };
        /** RegisterIn */
        RegisterIn: {
            /**
             * Display Name
             * @default
             */
            display_name: string;
            /**
             * Email
             * @description Unique, compared without regard to case.
             */
            email: string;
            /** Password */
            password: string;
        };
        /** S3EndpointIn */
        S3EndpointIn: {
            /**
             * Access Key Id
             * @default
             */
            access_key_id: string;
            /**
             * Addressing Style
             * @default path
             * @enum {string}
             */
            addressing_style: "auto" | "path" | "virtual";
            /** Bucket */
            bucket: string;
            /**
             * Connect Timeout
             * @default 5
             */
            connect_timeout: number;
            /**
             * Create Bucket
             * @default false
             */
            create_bucket: boolean;
            /**
             * Endpoint Url
             * @description Empty for AWS.
             * @default
             */
            endpoint_url: string;
            /**
             * Max Attempts
             * @default 3
             */
            max_attempts: number;
            /**
             * Prefix
             * @default
             */
            prefix: string;
            /**
             * Read Timeout
             * @default 30
             */
            read_timeout: number;
            /**
             * Region
             * @default us-east-1
             */
            region: string;
            /**
             * Secret Access Key
             * @description Refused: secrets are not stored; use secret_access_key_ref.
             */
            secret_access_key?: string | null;
            /**
             * Secret Access Key Ref
             * @description Where the secret key is: `env:NAME` or `file:/path` (never the key).
             * @default
             */
            secret_access_key_ref: string;
        };
        /**
         * Script
         * @description A story cut into panels, with the characters every panel may show.
         */
        Script: {
            /**
             * Characters
             * @default []
             */
            characters: components["schemas"]["Character"][];
            /**
             * Language
             * @enum {string}
             */
            language: "zh" | "en";
            /** Panels */
            panels: components["schemas"]["Panel"][];
            /**
             * Title
             * @default
             */
            title: string;
            /**
             * Writer
             * @default offline
             */
            writer: string;
        };
        /** SearchHitOut */
        SearchHitOut: {
            image: components["schemas"]["LibraryImageOut"];
            /**
             * Matched
             * @description The parts that contributed: vector, tags, text.
             */
            matched: string[];
            parts: components["schemas"]["Parts"];
            /** Score */
            score: number;
        };
        /** SearchOut */
        SearchOut: {
            /** Items */
            items: components["schemas"]["SearchHitOut"][];
            /**
             * Next Offset
             * @description `offset` of the next page; `null` on the last one.
             */
            next_offset?: number | null;
            /** Query */
            query: string;
        };
        /**
         * SelectIn
         * @description `PUT /api/v1/manga/{task_id}/panels/{n}`.
         */
        SelectIn: {
            /**
             * Version
             * @description A completed version of the panel.
             */
            version: number;
        };
        /** SharedImage */
        SharedImage: {
            /** Description En */
            description_en: string;
            /** Height */
            height: number;
            /** Image Id */
            image_id: string;
            /** Tags */
            tags: string[];
            /** Thumbnail Url */
            thumbnail_url: string;
            /** Title */
            title: string | null;
            /** Url */
            url: string;
            /** Width */
            width: number;
        };
        /** SharedOut */
        SharedOut: {
            /** Description */
            description: string;
            /**
             * Expires In
             * @description Seconds the image URLs stay valid.
             */
            expires_in: number;
            /** Items */
            items: components["schemas"]["SharedImage"][];
            /** Name */
            name: string;
        };
        /** ShareOut */
        ShareOut: {
            /**
             * Page Url
             * @description The web page that shows it, to hand to a person.
             */
            page_url: string;
            /** Token */
            token: string;
            /**
             * Url
             * @description The shared listing as JSON (`GET /api/v1/shared/{token}`).
             */
            url: string;
        };
        /** StageProgress */
        StageProgress: {
            /** Current */
            current: number;
            /** Total */
            total: number;
        };
        /**
         * SuggestedParams
         * @description Generation parameters a preset suggests; ``None`` means no opinion.
         */
        SuggestedParams: {
            /**
             * Guidance
             * @description CFG scale.
             */
            guidance?: number | null;
            /**
             * Steps
             * @description Sampling steps.
             */
            steps?: number | null;
            /**
             * Strength
             * @description Image-to-image strength: 0 keeps the photo.
             */
            strength?: number | null;
        };
        /** TagOut */
        TagOut: {
            /**
             * Lang
             * @description `en` or `zh`.
             */
            lang: string;
            /**
             * Origin
             * @description Who said it: `user`, `vlm`, `clip`, `color`, `face`, ...
             */
            origin: string;
            /** Score */
            score: number;
            /**
             * Source
             * @description `user` or `ai`.
             */
            source: string;
            /** Tag */
            tag: string;
        };
        /** TaskCreate */
        TaskCreate: {
            /**
             * Kind
             * @description Task kind, e.g. `generate`.
             */
            kind: string;
            /**
             * Params
             * @description The kind's parameters.
             */
            params?: {
                [key: string]: unknown;
            };
            /**
             * Webhook Url
             * @description Called when the task ends (signed).
             */
            webhook_url?: string | null;
        };
        /** TaskCreated */
        TaskCreated: {
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /**
             * Estimated Time
             * @description Seconds until done, estimated.
             */
            estimated_time: number | null;
            /** Queue Position */
            queue_position: number | null;
            /** Status */
            status: string;
            /** Task Id */
            task_id: string;
        };
        /** TaskError */
        TaskError: {
            /** Code */
            code: string;
            /** Message */
            message: string | null;
        };
        /** TaskOut */
        TaskOut: {
            /** Attempts */
            attempts: number;
            /** Completed At */
            completed_at: string | null;
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            error: components["schemas"]["TaskError"] | null;
            /** Estimated Time */
            estimated_time: number | null;
            /** Kind */
            kind: string;
            /** Params */
            params: {
                [key: string]: unknown;
            };
            /** Progress */
            progress: number;
            /** Provider */
            provider: string | null;
            /** Queue Position */
            queue_position: number | null;
            /** Result */
            result: {
                [key: string]: unknown;
            } | null;
            /** Stage */
            stage: string | null;
            stage_progress: components["schemas"]["StageProgress"];
            /** Started At */
            started_at: string | null;
            /** Status */
            status: string;
            /** Task Id */
            task_id: string;
            /**
             * Updated At
             * Format: date-time
             */
            updated_at: string;
        };
        /** TaskPage */
        TaskPage: {
            /** Items */
            items: components["schemas"]["TaskOut"][];
            /** Next Cursor */
            next_cursor: string | null;
        };
        /** TokenOut */
        TokenOut: {
            /** Access Token */
            access_token: string;
            /**
             * Expires In
             * @description Seconds the access token is valid.
             */
            expires_in: number;
            /** Refresh Token */
            refresh_token: string;
            /**
             * Token Type
             * @default bearer
             * @constant
             */
            token_type: "bearer";
            /**
             * Upgraded
             * @description Rows moved from the caller's anonymous session, per table (null when there was none).
             */
            upgraded?: {
                [key: string]: number;
            } | null;
            user: components["schemas"]["UserOut"];
        };
        /** UserOut */
        UserOut: {
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Disabled */
            disabled: boolean;
            /** Display Name */
            display_name: string;
            /** Email */
            email: string;
            /** Id */
            id: string;
            /** Last Login At */
            last_login_at: string | null;
            /**
             * Owner
             * @description The owner id of the user's tasks and images.
             */
            owner: string;
            /**
             * Role
             * @enum {string}
             */
            role: "user" | "admin";
        };
        /** UserPage */
        UserPage: {
            /** Items */
            items: components["schemas"]["UserOut"][];
            /** Total */
            total: number;
        };
        /** UserPatch */
        UserPatch: {
            /** Disabled */
            disabled?: boolean | null;
            /** Role */
            role?: ("user" | "admin") | null;
        };
        /** ValidationError */
        ValidationError: {
            /** Context */
            ctx?: Record<string, never>;
            /** Input */
            input?: unknown;
            /** Location */
            loc: (string | number)[];
            /** Message */
            msg: string;
            /** Error Type */
            type: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    list_endpoints_api_v1_admin_storage_endpoints_get: {
        parameters: {
            query?: {
                /** @description Probe endpoints checked longer ago than this (s). */
                max_age?: number | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointList"];
                };
            };
            /** @description missing or wrong admin token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `admin_disabled`: ATELIER_ADMIN_TOKEN is not set */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    add_endpoint_api_v1_admin_storage_endpoints_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EndpointIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointView"];
                };
            };
            /** @description missing or wrong admin token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `admin_disabled`: ATELIER_ADMIN_TOKEN is not set */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `endpoint_exists`, `multi_storage_off` */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description invalid, `endpoint_unreachable` or `secret_unavailable` */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    remove_endpoint_api_v1_admin_storage_endpoints__endpoint_id__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The endpoint's id. */
                endpoint_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description missing or wrong admin token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `admin_disabled`: ATELIER_ADMIN_TOKEN is not set */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description no such endpoint */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `endpoint_not_drained`, `endpoint_holds_only_copy` (details: objects, sample keys) or `endpoint_scan_pending` */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    update_endpoint_api_v1_admin_storage_endpoints__endpoint_id__patch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The endpoint's id. */
                endpoint_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EndpointPatch"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointView"];
                };
            };
            /** @description missing or wrong admin token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `admin_disabled`: ATELIER_ADMIN_TOKEN is not set */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description no such endpoint */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description conflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    drain_endpoint_api_v1_admin_storage_endpoints__endpoint_id__drain_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The endpoint's id. */
                endpoint_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EndpointView"];
                };
            };
            /** @description missing or wrong admin token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `admin_disabled`: ATELIER_ADMIN_TOKEN is not set */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description no such endpoint */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description conflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_users_api_v1_admin_users_get: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserPage"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    update_user_api_v1_admin_users__user_id__patch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                user_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UserPatch"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_api_keys_api_v1_auth_api_keys_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeyPage"];
                };
            };
        };
    };
    create_api_key_api_v1_auth_api_keys_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ApiKeyCreate"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeyCreated"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    revoke_api_key_api_v1_auth_api_keys__key_id__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                key_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    login_api_v1_auth_login_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    logout_api_v1_auth_logout_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RefreshIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    me_api_v1_auth_me_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MeOut"];
                };
            };
        };
    };
    refresh_api_v1_auth_refresh_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RefreshIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    register_api_v1_auth_register_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RegisterIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    erase_api_v1_erase_post: {
        parameters: {
            query?: never;
            header?: {
                "Idempotency-Key"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": components["schemas"]["Body_erase_api_v1_erase_post"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskCreated"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    add_images_api_v1_external_images_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "multipart/form-data": components["schemas"]["Body_add_images_api_v1_external_images_post"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ImportOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_image_api_v1_external_images__image_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                image_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LibraryImageDetail"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    random_images_api_v1_external_random_get: {
        parameters: {
            query?: {
                /** @description A collection id. */
                collection?: string | null;
                /** @description Created at or after. */
                created_from?: string | null;
                /** @description Created before. */
                created_to?: string | null;
                /** @description Same as `source`. */
                kind?: ("upload" | "url" | "generated") | null;
                max_height?: number | null;
                max_width?: number | null;
                min_height?: number | null;
                min_width?: number | null;
                n?: number;
                /** @description `upload`, `url` or `generated`. */
                source?: ("upload" | "url" | "generated") | null;
                /** @description Images with every one of these tags (repeat, or comma-separated). */
                tags?: string[] | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: components["schemas"]["LibraryImageOut"][];
                    };
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    search_api_v1_external_search_get: {
        parameters: {
            query: {
                /** @description A collection id. */
                collection?: string | null;
                /** @description Created at or after. */
                created_from?: string | null;
                /** @description Created before. */
                created_to?: string | null;
                k?: number;
                /** @description Same as `source`. */
                kind?: ("upload" | "url" | "generated") | null;
                max_height?: number | null;
                max_width?: number | null;
                min_height?: number | null;
                min_width?: number | null;
                /** @description Words, a sentence, in any language. */
                q: string;
                /** @description `upload`, `url` or `generated`. */
                source?: ("upload" | "url" | "generated") | null;
                /** @description Images with every one of these tags (repeat, or comma-separated). */
                tags?: string[] | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    generate_api_v1_generate_post: {
        parameters: {
            query?: never;
            header?: {
                "Idempotency-Key"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["GenerateParams"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GenerateCreated"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    health_api_v1_health_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    history_api_v1_history_get: {
        parameters: {
            query?: {
                cursor?: string | null;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HistoryPage"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    delete_history_api_v1_history__task_id__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    upload_image_api_v1_images_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": components["schemas"]["Body_upload_image_api_v1_images_post"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_image_api_v1_images__image_id__get: {
        parameters: {
            query?: {
                /** @description Signed URL expiry (epoch s). */
                expires?: number | null;
                /** @description Signed URL signature. */
                sig?: string | null;
            };
            header?: never;
            path: {
                image_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/jpeg": unknown;
                    "image/png": unknown;
                    "image/webp": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_thumbnail_api_v1_images__image_id__thumbnail_get: {
        parameters: {
            query?: {
                expires?: number | null;
                sig?: string | null;
            };
            header?: never;
            path: {
                image_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/webp": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_collections_api_v1_library_collections_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CollectionPage"];
                };
            };
        };
    };
    create_collection_api_v1_library_collections_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CollectionIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CollectionOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_collection_api_v1_library_collections__collection_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                collection_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CollectionDetail"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    delete_collection_api_v1_library_collections__collection_id__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                collection_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    update_collection_api_v1_library_collections__collection_id__patch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                collection_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CollectionPatch"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CollectionOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    add_collection_items_api_v1_library_collections__collection_id__items_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                collection_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ItemsIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CollectionOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    remove_collection_items_api_v1_library_collections__collection_id__items_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                collection_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ItemsIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CollectionOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    share_collection_api_v1_library_collections__collection_id__share_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                collection_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ShareOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    unshare_collection_api_v1_library_collections__collection_id__share_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                collection_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_library_images_api_v1_library_images_get: {
        parameters: {
            query?: {
                /** @description A collection id. */
                collection?: string | null;
                /** @description Created at or after. */
                created_from?: string | null;
                /** @description Created before. */
                created_to?: string | null;
                cursor?: string | null;
                /** @description Same as `source`. */
                kind?: ("upload" | "url" | "generated") | null;
                limit?: number;
                max_height?: number | null;
                max_width?: number | null;
                min_height?: number | null;
                min_width?: number | null;
                /** @description `upload`, `url` or `generated`. */
                source?: ("upload" | "url" | "generated") | null;
                /** @description Images with every one of these tags (repeat, or comma-separated). */
                tags?: string[] | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ImagePage"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    import_library_images_api_v1_library_images_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "multipart/form-data": components["schemas"]["Body_import_library_images_api_v1_library_images_post"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ImportOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_library_image_api_v1_library_images__image_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                image_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LibraryImageDetail"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    delete_library_image_api_v1_library_images__image_id__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                image_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    patch_library_image_api_v1_library_images__image_id__patch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                image_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ImagePatch"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PatchOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    similar_images_api_v1_library_images__image_id__similar_get: {
        parameters: {
            query?: {
                /** @description A collection id. */
                collection?: string | null;
                /** @description Created at or after. */
                created_from?: string | null;
                /** @description Created before. */
                created_to?: string | null;
                k?: number;
                /** @description Same as `source`. */
                kind?: ("upload" | "url" | "generated") | null;
                max_height?: number | null;
                max_width?: number | null;
                min_height?: number | null;
                min_width?: number | null;
                /** @description Skip this many hits (paging). */
                offset?: number;
                /** @description `upload`, `url` or `generated`. */
                source?: ("upload" | "url" | "generated") | null;
                /** @description Images with every one of these tags (repeat, or comma-separated). */
                tags?: string[] | null;
            };
            header?: never;
            path: {
                image_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    random_images_api_v1_library_random_get: {
        parameters: {
            query?: {
                /** @description A collection id. */
                collection?: string | null;
                /** @description Created at or after. */
                created_from?: string | null;
                /** @description Created before. */
                created_to?: string | null;
                /** @description Same as `source`. */
                kind?: ("upload" | "url" | "generated") | null;
                max_height?: number | null;
                max_width?: number | null;
                min_height?: number | null;
                min_width?: number | null;
                n?: number;
                /** @description `upload`, `url` or `generated`. */
                source?: ("upload" | "url" | "generated") | null;
                /** @description Images with every one of these tags (repeat, or comma-separated). */
                tags?: string[] | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: components["schemas"]["LibraryImageOut"][];
                    };
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    reembed_library_api_v1_library_reembed_post: {
        parameters: {
            query?: {
                /** @description Run even when nothing seems stale. */
                force?: boolean;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReembedOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    search_library_api_v1_library_search_get: {
        parameters: {
            query: {
                /** @description A collection id. */
                collection?: string | null;
                /** @description Created at or after. */
                created_from?: string | null;
                /** @description Created before. */
                created_to?: string | null;
                k?: number;
                /** @description Same as `source`. */
                kind?: ("upload" | "url" | "generated") | null;
                max_height?: number | null;
                max_width?: number | null;
                min_height?: number | null;
                min_width?: number | null;
                /** @description Skip this many hits (paging). */
                offset?: number;
                /** @description Words, a sentence, in any language. */
                q: string;
                /** @description `upload`, `url` or `generated`. */
                source?: ("upload" | "url" | "generated") | null;
                /** @description Images with every one of these tags (repeat, or comma-separated). */
                tags?: string[] | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    search_by_image_api_v1_library_search_image_post: {
        parameters: {
            query?: {
                /** @description A collection id. */
                collection?: string | null;
                /** @description Created at or after. */
                created_from?: string | null;
                /** @description Created before. */
                created_to?: string | null;
                k?: number;
                /** @description Same as `source`. */
                kind?: ("upload" | "url" | "generated") | null;
                max_height?: number | null;
                max_width?: number | null;
                min_height?: number | null;
                min_width?: number | null;
                /** @description Skip this many hits (paging). */
                offset?: number;
                /** @description `upload`, `url` or `generated`. */
                source?: ("upload" | "url" | "generated") | null;
                /** @description Images with every one of these tags (repeat, or comma-separated). */
                tags?: string[] | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "multipart/form-data": components["schemas"]["Body_search_by_image_api_v1_library_search_image_post"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    my_limits_api_v1_limits_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LimitsOut"];
                };
            };
        };
    };
    create_manga_api_v1_manga_post: {
        parameters: {
            query?: never;
            header?: {
                "Idempotency-Key"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MangaCreate"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskCreated"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_manga_api_v1_manga__task_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MangaJobOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    export_page_api_v1_manga__task_id__export_get: {
        parameters: {
            query?: {
                /** @description png, webp, pdf or cbz. */
                format?: "png" | "webp" | "pdf" | "cbz";
            };
            header?: never;
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/pdf": unknown;
                    "application/vnd.comicbook+zip": unknown;
                    "image/png": unknown;
                    "image/webp": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    compose_page_api_v1_manga__task_id__page_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MangaJobOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_panel_api_v1_manga__task_id__panels__panel_number__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                panel_number: number;
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PanelOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    select_version_api_v1_manga__task_id__panels__panel_number__put: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                panel_number: number;
                task_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SelectIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MangaJobOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    regenerate_panel_api_v1_manga__task_id__panels__panel_number__versions_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                panel_number: number;
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["RegenerateIn"] | null;
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PanelVersionOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_models_api_v1_models_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    list_presets_api_v1_presets_get: {
        parameters: {
            query?: {
                /** @description `zh` or `en`; default from Accept-Language, else `en`. */
                lang?: string | null;
            };
            header?: {
                "accept-language"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PresetListing"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_preset_api_v1_presets__kind___preset_id__get: {
        parameters: {
            query?: {
                /** @description `zh` or `en`; default from Accept-Language, else `en`. */
                lang?: string | null;
            };
            header?: {
                "accept-language"?: string | null;
            };
            path: {
                kind: string;
                preset_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PresetDetail"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_providers_api_v1_providers_get: {
        parameters: {
            query?: {
                hours?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    ready_api_v1_ready_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    shared_collection_api_v1_shared__token__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                token: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SharedOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    stylize_api_v1_stylize_post: {
        parameters: {
            query?: never;
            header?: {
                "Idempotency-Key"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": components["schemas"]["Body_stylize_api_v1_stylize_post"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskCreated"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    system_info_api_v1_system_info_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    get_legacy_task_api_v1_task__task_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LegacyTask"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    delete_legacy_task_api_v1_task__task_id__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_tasks_api_v1_tasks_get: {
        parameters: {
            query?: {
                cursor?: string | null;
                /** @description Filter; repeatable. */
                kind?: string[] | null;
                limit?: number;
                /** @description Filter; repeatable. */
                status?: string[] | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskPage"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    create_task_api_v1_tasks_post: {
        parameters: {
            query?: never;
            header?: {
                "Idempotency-Key"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TaskCreate"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskCreated"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_task_api_v1_tasks__task_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    delete_task_api_v1_tasks__task_id__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    cancel_task_api_v1_tasks__task_id__cancel_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TaskOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    stream_task_api_v1_tasks__task_id__stream_get: {
        parameters: {
            query?: {
                /** @description Resume after this seq. */
                after?: number | null;
            };
            header?: {
                "Last-Event-ID"?: string | null;
            };
            path: {
                task_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    metrics_metrics_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": unknown;
                };
            };
            /** @description bad token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    edit_image_v1_images_edits_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": components["schemas"]["Body_edit_image_v1_images_edits_post"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    create_image_v1_images_generations_post: {
        parameters: {
            query?: never;
            header?: {
                "Idempotency-Key"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["GenerationRequest"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_models_v1_models_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
}
