import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppRoutes } from "../../app/App";
import { json, task, type Call } from "../../test/fakes";
import { renderApp } from "../../test/render";
import { taskServer } from "../../test/server";
import type { Collection, LibraryImage } from "./api";

let n = 0;

function libImage(overrides: Partial<LibraryImage> = {}): LibraryImage {
  n += 1;
  const id = overrides.image_id ?? `lib-${n}`;
  return {
    image_id: id,
    url: `/api/v1/images/${id}`,
    thumbnail_url: `/api/v1/images/${id}/thumbnail`,
    width: 640,
    height: 480,
    format: "png",
    content_type: "image/png",
    file_size: 12_345,
    source: "upload",
    original_filename: `${id}.png`,
    source_url: null,
    title: null,
    description_en: "A landscape image, mostly blue.",
    description_zh: "一张横向图片，主要颜色为蓝色。",
    tags: [
      { tag: "blue", lang: "en", source: "ai", origin: "color", score: 0.8 },
      { tag: "蓝色", lang: "zh", source: "ai", origin: "color", score: 0.8 },
    ],
    status: "done",
    analyzer: "offline",
    tag_task_id: null,
    sha256: "0".repeat(64),
    collections: [],
    created_at: new Date(Date.now() - n * 60_000).toISOString(),
    analyzed_at: new Date().toISOString(),
    ...overrides,
  };
}

const notFound = () => json({ error: "not_found", message: "no such image", details: null }, 404);

/** An in-memory library API over the fake fetch: images, paging, collections. */
function libraryServer(images: LibraryImage[], extra: Parameters<typeof taskServer>[1] = {}) {
  const collections: Collection[] = [];
  const find = (id: string) => images.find((image) => image.image_id === id);
  const server = taskServer([], {
    "GET /api/v1/library/images": (call: Call) => {
      const cursor = call.url.searchParams.get("cursor");
      const limit = Number(call.url.searchParams.get("limit") ?? 20);
      const collection = call.url.searchParams.get("collection");
      const allowed = images.filter((image) => !collection || image.collections.includes(collection));
      const start = cursor ? Number(cursor) : 0;
      const items = allowed.slice(start, start + limit);
      const next = start + limit < allowed.length ? String(start + limit) : null;
      return { items, next_cursor: next };
    },
    "GET /api/v1/library/images/{id}": (_call, { id }) => {
      const image = find(id!);
      return image ? { ...image, analysis: {} } : notFound();
    },
    "GET /api/v1/library/collections": () => ({ items: collections }),
    "POST /api/v1/library/collections": (call) => {
      const body = call.body as { name: string };
      const made: Collection = {
        id: `col-${collections.length + 1}`,
        name: body.name,
        description: "",
        image_count: 0,
        share_token: null,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      };
      collections.push(made);
      return json(made, 201);
    },
    "POST /api/v1/library/collections/{id}/items": (call, { id }) => {
      const target = collections.find((c) => c.id === id)!;
      for (const imageId of (call.body as { image_ids: string[] }).image_ids) {
        const image = find(imageId)!;
        if (!image.collections.includes(id!)) image.collections.push(id!);
      }
      target.image_count = images.filter((image) => image.collections.includes(id!)).length;
      return target;
    },
    "POST /api/v1/library/collections/{id}/share": (_call, { id }) => {
      const target = collections.find((c) => c.id === id)!;
      target.share_token = "tok-123456789";
      return { token: target.share_token, url: `http://localhost/api/v1/shared/${target.share_token}` };
    },
    ...extra,
  });
  return { ...server, images, collections };
}

/** IntersectionObserver is not in happy-dom: a stand-in the test fires. */
class FakeObserver {
  static all: FakeObserver[] = [];
  target: Element | null = null;
  disconnected = false;
  constructor(readonly callback: IntersectionObserverCallback) {
    FakeObserver.all.push(this);
  }
  observe(target: Element) {
    this.target = target;
  }
  unobserve() {}
  disconnect() {
    this.disconnected = true;
  }
  takeRecords() {
    return [];
  }
  static scrollToEnd() {
    for (const observer of FakeObserver.all.filter((o) => !o.disconnected)) {
      observer.callback(
        [{ isIntersecting: true, target: observer.target } as IntersectionObserverEntry],
        observer as unknown as IntersectionObserver,
      );
    }
  }
}

beforeEach(() => {
  FakeObserver.all = [];
  vi.stubGlobal("IntersectionObserver", FakeObserver);
});

afterEach(() => {
  FakeObserver.all = [];
});

const many = (count: number) => Array.from({ length: count }, () => libImage());

describe("the Library page", () => {
  it("shows the images newest first with their tags, and loads more on scroll", async () => {
    const images = many(30);
    images[0]!.tags.unshift({ tag: "holiday", lang: "en", source: "user", origin: "user", score: 1 });
    const server = libraryServer(images);
    renderApp(<AppRoutes />, { route: "/library" });
    expect(await screen.findByRole("heading", { level: 1, name: "Library" })).toBeInTheDocument();
    const grid = await screen.findByRole("list", { name: "All images, newest first" });
    await waitFor(() => expect(within(grid).getAllByRole("button", { name: /^Open / })).toHaveLength(24));
    const first = within(grid).getAllByRole("listitem")[0]!;
    expect(
      within(first).getByRole("button", { name: `Open ${images[0]!.original_filename}` }),
    ).toBeInTheDocument();
    const tags = within(first).getByRole("list", { name: `Tags of ${images[0]!.original_filename}` });
    expect(
      within(tags)
        .getAllByRole("listitem")
        .map((li) => li.textContent),
    ).toEqual(["holiday", "blue"]);
    expect(first.querySelector("img")).toHaveAttribute("loading", "lazy");
    expect(screen.getByText("24 shown")).toBeInTheDocument();

    FakeObserver.scrollToEnd();
    await waitFor(() => expect(within(grid).getAllByRole("button", { name: /^Open / })).toHaveLength(30));
    const pages = server.calls.filter((c) => c.path === "/api/v1/library/images");
    expect(pages.map((c) => c.url.searchParams.get("cursor"))).toEqual([null, "24"]);
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("edits the tags of an image with PATCH and shows the re-tag task", async () => {
    const user = userEvent.setup();
    const image = libImage({
      image_id: "pic",
      title: "Cat on a sofa",
      tags: [{ tag: "cat", lang: "en", source: "user", origin: "user", score: 1 }],
    });
    const patches: unknown[] = [];
    const server = libraryServer([image], {
      "PATCH /api/v1/library/images/{id}": (call) => {
        patches.push(call.body);
        const tags = (call.body as { tags: string[] }).tags;
        image.tags = tags.map((tag) => ({ tag, lang: "en", source: "user", origin: "user", score: 1 }));
        return { image: { ...image, analysis: {} }, task_id: "retag-1" };
      },
    });
    server.tasks.push(
      task({ task_id: "retag-1", kind: "tag", status: "processing", progress: 30, stage: "embedding" }),
    );
    renderApp(<AppRoutes />, { route: "/library" });
    await user.click(await screen.findByRole("button", { name: "Open Cat on a sofa" }));
    const dialog = await screen.findByRole("dialog", { name: "Cat on a sofa" });
    expect(within(dialog).getByRole("img", { name: "Cat on a sofa" })).toHaveAttribute("src", image.url);
    expect(within(dialog).getByRole("link", { name: "Download" })).toHaveAttribute("download", "pic.png");

    await user.type(within(dialog).getByLabelText("Add a tag"), "sofa, 猫");
    await user.click(within(dialog).getByRole("button", { name: "Add a tag" }));
    await waitFor(() => expect(patches).toEqual([{ tags: ["cat", "sofa", "猫"] }]));
    const progress = await within(dialog).findByRole("progressbar");
    expect(progress).toHaveAttribute("aria-valuenow", "30");
    expect(within(dialog).getByText("Updating the search index")).toBeInTheDocument();
    expect(within(dialog).getByText("Indexing the meaning")).toBeInTheDocument();

    await user.click(await within(dialog).findByRole("button", { name: "Remove the tag cat" }));
    await waitFor(() => expect(patches).toHaveLength(2));
    expect(patches[1]).toEqual({ tags: ["sofa", "猫"] });
  });

  it("searches with words and filters, shows scores and what matched, and clears back", async () => {
    const user = userEvent.setup();
    const cat = libImage({ title: "A cat" });
    const server = libraryServer([cat, libImage()], {
      "GET /api/v1/library/search": (call) => ({
        query: call.url.searchParams.get("q"),
        items: [
          {
            image: cat,
            score: 0.51,
            parts: { vector: 0.6, tags: 0.5, text: 0 },
            matched: ["vector", "tags"],
          },
        ],
      }),
    });
    renderApp(<AppRoutes />, { route: "/library" });
    await screen.findByRole("list", { name: "All images, newest first" });
    const form = screen.getByRole("search", { name: "Search your images" });
    await user.type(within(form).getByRole("searchbox"), "cat asleep");
    await user.type(within(form).getByLabelText("With the tags"), "home, 猫");
    await user.type(within(form).getByLabelText("Minimum width (px)"), "300");
    await user.click(within(form).getByRole("button", { name: "Search" }));

    const results = await screen.findByRole("list", { name: "Results for “cat asleep”" });
    expect(within(results).getAllByRole("button", { name: /^Open / })).toHaveLength(1);
    expect(within(results).getByText(/score 0\.51/)).toHaveTextContent(
      "score 0.51 · matched by meaning, tags",
    );
    const sent = server.calls.find((c) => c.path === "/api/v1/library/search")!.url.searchParams;
    expect(sent.get("q")).toBe("cat asleep");
    expect(sent.getAll("tags")).toEqual(["home", "猫"]);
    expect(sent.get("min_width")).toBe("300");

    await user.click(screen.getByRole("button", { name: "Clear" }));
    const all = await screen.findByRole("list", { name: "All images, newest first" });
    await waitFor(() => expect(within(all).getAllByRole("button", { name: /^Open / })).toHaveLength(2));
    expect(screen.getByRole("searchbox", { name: "Search your images" })).toHaveValue("");
  });

  it("says plainly when searching by an example image needs a model the server lacks", async () => {
    const user = userEvent.setup();
    libraryServer([libImage()], {
      "POST /api/v1/library/search/image": () =>
        json(
          { error: "image_embedder_unavailable", message: "no CLIP model is configured", details: null },
          409,
        ),
    });
    renderApp(<AppRoutes />, { route: "/library" });
    await screen.findByRole("list", { name: "All images, newest first" });
    await user.upload(
      screen.getByLabelText("Search by an example image"),
      new File([new Uint8Array([137, 80, 78, 71])], "example.png", { type: "image/png" }),
    );
    expect(await screen.findByText(/needs an image model \(CLIP\)/)).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Images like your example example.png" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Back to all images" }));
    expect(await screen.findByRole("list", { name: "All images, newest first" })).toBeInTheDocument();
  });

  it("uploads files with tags and reports an added image and a duplicate", async () => {
    const user = userEvent.setup();
    const existing = libImage({ image_id: "old", title: "The first copy" });
    let form: FormData | null = null;
    const server = libraryServer([existing], {
      "POST /api/v1/library/images": (call) => {
        form = call.body as FormData;
        return json(
          {
            items: [
              {
                image_id: "new-1",
                status: "created",
                near_duplicates: [{ image_id: "old", distance: 4 }],
                task_id: "tag-1",
                filename: "a.png",
                url: null,
              },
              {
                image_id: "old",
                status: "duplicate",
                near_duplicates: [],
                task_id: null,
                filename: "b.png",
                url: null,
              },
            ],
            batch_task_id: "batch-1",
          },
          201,
        );
      },
    });
    server.tasks.push(
      task({
        task_id: "batch-1",
        kind: "library_batch",
        status: "processing",
        progress: 50,
        stage: "tagging",
      }),
      task({ task_id: "tag-1", kind: "tag", status: "processing", progress: 20, stage: "analysis" }),
    );
    renderApp(<AppRoutes />, { route: "/library" });
    await screen.findByRole("list", { name: "All images, newest first" });
    const png = (name: string) => new File([new Uint8Array([137, 80, 78, 71])], name, { type: "image/png" });
    await user.upload(screen.getByLabelText("Choose images"), [png("a.png"), png("b.png")]);
    expect(screen.getByRole("list", { name: "Chosen files" })).toHaveTextContent(/a\.png.*b\.png/);
    await user.type(screen.getByLabelText("Tags for these images (optional)"), "home, morning");
    await user.click(screen.getByRole("button", { name: "Add to the library (2)" }));

    expect(
      await screen.findByRole("heading", { name: "1 added, 1 already in your library" }),
    ).toBeInTheDocument();
    const sent = form as unknown as FormData;
    expect((sent.getAll("files") as File[]).map((f) => f.name)).toEqual(["a.png", "b.png"]);
    expect(sent.get("tags")).toBe('["home","morning"]');
    expect(screen.getByText("Already in your library")).toBeInTheDocument();
    expect(await screen.findByRole("progressbar")).toHaveAttribute("aria-valuenow", "50");
    expect(screen.getByText("image 1 (4 bits apart)")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Open the existing copy of b.png" }));
    expect(await screen.findByRole("dialog", { name: "The first copy" })).toBeInTheDocument();
  });

  it("creates a collection, adds the selected images, and shares it", async () => {
    const user = userEvent.setup();
    const images = [libImage({ title: "Beach" }), libImage({ title: "Hill" })];
    const server = libraryServer(images);
    renderApp(<AppRoutes />, { route: "/library" });
    await screen.findByRole("list", { name: "All images, newest first" });
    await user.type(screen.getByLabelText("New collection name"), "Trips");
    await user.click(screen.getByRole("button", { name: "Create" }));
    const list = await screen.findByRole("list", { name: "Collections" });
    expect(within(list).getByRole("button", { name: "Trips" })).toBeInTheDocument();
    expect(
      server.calls.find((c) => c.method === "POST" && c.path === "/api/v1/library/collections")?.body,
    ).toEqual({
      name: "Trips",
      description: "",
    });

    await user.click(screen.getByRole("checkbox", { name: "Select Beach" }));
    const selection = screen.getByRole("group", { name: "Selected images" });
    expect(within(selection).getByText("1 selected")).toBeInTheDocument();
    await user.click(within(selection).getByRole("button", { name: "Add to collection" }));
    await waitFor(() =>
      expect(server.calls.find((c) => c.path === "/api/v1/library/collections/col-1/items")?.body).toEqual({
        image_ids: [images[0]!.image_id],
      }),
    );
    expect(await within(list).findByText("1 images")).toBeInTheDocument();

    await user.click(within(list).getByRole("button", { name: "Trips" }));
    const shown = await screen.findByRole("list", { name: "Collection “Trips”" });
    await waitFor(() => expect(within(shown).getAllByRole("button", { name: /^Open / })).toHaveLength(1));

    await user.click(within(list).getByRole("button", { name: "Share Trips" }));
    expect(await within(list).findByLabelText("Anyone with this link can see it")).toHaveValue(
      `${window.location.origin}/library?shared=tok-123456789`,
    );
  });

  it("deletes an image after asking, and the gallery forgets it", async () => {
    const user = userEvent.setup();
    const images = [libImage({ title: "Keep me" }), libImage({ title: "Bin me" })];
    const server = libraryServer(images, {
      "DELETE /api/v1/library/images/{id}": (_call, { id }) => {
        images.splice(
          images.findIndex((image) => image.image_id === id),
          1,
        );
        return new Response(null, { status: 204 });
      },
    });
    renderApp(<AppRoutes />, { route: "/library" });
    await user.click(await screen.findByRole("button", { name: "Open Bin me" }));
    const dialog = await screen.findByRole("dialog", { name: "Bin me" });
    await user.click(within(dialog).getByRole("button", { name: "Delete" }));
    const ask = within(dialog).getByRole("group", { name: "Delete this image from your library?" });
    await user.click(within(ask).getByRole("button", { name: "Yes, delete" }));
    await waitFor(() => expect(screen.queryByRole("button", { name: "Open Bin me" })).toBeNull());
    expect(screen.getByRole("button", { name: "Open Keep me" })).toBeInTheDocument();
    expect(server.calls.some((c) => c.method === "DELETE")).toBe(true);
  });

  it("shows a shared collection to anyone with the link", async () => {
    libraryServer([], {
      "GET /api/v1/shared/{token}": () => ({
        name: "Trips",
        description: "Summer 2024",
        expires_in: 3600,
        items: [
          {
            image_id: "s1",
            url: "/api/v1/images/s1?sig=x",
            thumbnail_url: "/api/v1/images/s1/thumbnail?sig=x",
            width: 100,
            height: 100,
            title: "Beach",
            description_en: "",
            tags: ["sea"],
          },
        ],
      }),
    });
    renderApp(<AppRoutes />, { route: "/library?shared=tok-123456789" });
    expect(await screen.findByRole("heading", { level: 1, name: "Trips" })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "Beach" })).toHaveAttribute(
      "src",
      "/api/v1/images/s1/thumbnail?sig=x",
    );
  });

  it("speaks Chinese", async () => {
    libraryServer([libImage({ title: "海边" })]);
    renderApp(<AppRoutes />, { route: "/library", lang: "zh" });
    expect(await screen.findByRole("heading", { level: 1, name: "图库" })).toBeInTheDocument();
    const grid = await screen.findByRole("list", { name: "全部图片（最新在前）" });
    expect(within(grid).getByText("蓝色")).toBeInTheDocument();
    expect(within(grid).getByRole("checkbox", { name: "选择 海边" })).toBeInTheDocument();
  });
});
