import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { AppRoutes } from "../../app/App";
import { event, FakeSocket, image, json, task } from "../../test/fakes";
import { renderApp } from "../../test/render";
import { taskServer } from "../../test/server";
import type { MangaJob, PanelVersion } from "./api";

const now = new Date().toISOString();

function version(overrides: Partial<PanelVersion> = {}): PanelVersion {
  return {
    version: 1,
    task_id: "child-1",
    status: "processing",
    progress: 10,
    stage: "image_generation",
    stage_progress: { current: 1, total: 8 },
    attempts: 1,
    seed: 7,
    text: null,
    selected: true,
    image: null,
    error: null,
    created_at: now,
    ...overrides,
  };
}

function job(overrides: Partial<MangaJob> = {}): MangaJob {
  return {
    task_id: "m-1",
    status: "processing",
    stage: "panel_processing",
    stage_progress: { current: 0, total: 2 },
    progress: 30,
    attempts: 1,
    error: null,
    title: "The red cap",
    language: "en",
    writer: "offline",
    model: "procedural",
    base_seed: 7,
    layout: "grid-2",
    reading_direction: "ltr",
    page_format: "png",
    script: null,
    panels: [],
    page: null,
    exports: {},
    failures: [],
    created_at: now,
    started_at: now,
    completed_at: null,
    updated_at: now,
    ...overrides,
  };
}

const panel = (n: number, versions: PanelVersion[], selected: number | null = 1) => ({
  panel_number: n,
  selected_version: selected,
  versions,
});

const page = (v = 1, stale = false) => ({
  version: v,
  image: image({ image_id: `page-${v}`, width: 800, height: 1100 }),
  panels: { "1": 1, "2": 1 },
  stale,
  layout: {},
});

const EXPORTS = {
  png: "http://x/api/v1/manga/m-1/export?format=png",
  webp: "http://x/api/v1/manga/m-1/export?format=webp",
  pdf: "http://x/api/v1/manga/m-1/export?format=pdf",
  cbz: "http://x/api/v1/manga/m-1/export?format=cbz",
};

const parentTask = (status = "processing") =>
  task({ task_id: "m-1", kind: "manga", status, params: { story: "Ana ran." }, progress: 30 });

describe("the Manga page", () => {
  it("sends the story with its options and opens the job", async () => {
    const user = userEvent.setup();
    let body: unknown = null;
    taskServer([parentTask("pending")], {
      "POST /api/v1/manga": (call) => {
        body = call.body;
        return json({ task_id: "m-1", status: "pending", created_at: now, queue_position: 0 }, 201);
      },
      "GET /api/v1/manga/{id}": () => job({ status: "pending", stage: null, title: null }),
    });
    renderApp(<AppRoutes />, { route: "/manga" });
    await screen.findByRole("heading", { level: 1, name: "Manga" });
    await user.click(screen.getByRole("button", { name: "Draw the manga" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Write a story first.");
    await user.type(screen.getByLabelText("Story"), '"Run!" Ana said.');
    await user.selectOptions(screen.getByLabelText("Panels"), "2");
    await user.selectOptions(screen.getByLabelText("Reading direction"), "rtl");
    await user.type(screen.getByLabelText("Seed"), "7");
    await user.click(screen.getByRole("button", { name: "Draw the manga" }));
    await waitFor(() => expect(body).not.toBeNull());
    expect(body).toEqual({ story: '"Run!" Ana said.', panels: 2, reading_direction: "rtl", seed: 7 });
    expect(await screen.findByText("Writing the scenes…")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Untitled manga" })).toBeInTheDocument();
  });

  it("fills the panels in live from the panel tasks' events, then shows the page and exports", async () => {
    let view = job({
      panels: [
        panel(1, [version()]),
        panel(2, [version({ task_id: "child-2", progress: 0, status: "pending" })]),
      ],
    });
    const server = taskServer([parentTask()], { "GET /api/v1/manga/{id}": () => view });
    renderApp(<AppRoutes />, { route: "/manga?job=m-1" });
    const grid = await screen.findByRole("list", { name: "Panels" });
    expect(within(grid).getAllByRole("article")).toHaveLength(2);
    const socket = FakeSocket.latest();
    act(() => socket.open());
    await waitFor(() => expect(socket.sent.some((m) => JSON.stringify(m).includes("child-1"))).toBe(true));
    act(() => socket.emit(event("child-1", 5, { progress: 60 })));
    expect(await screen.findByRole("progressbar", { name: "Progress of panel 1" })).toHaveAttribute(
      "aria-valuenow",
      "60",
    );

    const drawn = image({ image_id: "p1", width: 400, height: 300 });
    view = job({
      stage_progress: { current: 1, total: 2 },
      panels: [
        panel(1, [version({ status: "completed", progress: 100, image: drawn })]),
        panel(2, [version({ task_id: "child-2", progress: 0, status: "pending" })]),
      ],
    });
    act(() => socket.emit(event("child-1", 6, { type: "completed", status: "completed", progress: 100 })));
    expect(await screen.findByRole("img", { name: "Panel 1, version 1" })).toHaveAttribute("src", drawn.url);

    view = job({
      status: "completed",
      stage: "done",
      progress: 100,
      panels: [
        panel(1, [version({ status: "completed", progress: 100, image: drawn })]),
        panel(2, [version({ task_id: "child-2", status: "completed", progress: 100, image: image() })]),
      ],
      page: page(),
      exports: EXPORTS,
    });
    server.tasks[0] = parentTask("completed");
    act(() => socket.emit(event("m-1", 9, { type: "completed", status: "completed", progress: 100 })));
    expect(await screen.findByRole("img", { name: "The manga page: The red cap" })).toHaveAttribute(
      "src",
      "/api/v1/images/page-1",
    );
    const downloads = screen.getByRole("group", { name: "Download the page" });
    for (const [format, name] of [
      ["png", "PNG"],
      ["webp", "WebP"],
      ["pdf", "PDF"],
      ["cbz", "CBZ"],
    ]) {
      const link = within(downloads).getByRole("link", { name: `Download the page as ${name}` });
      expect(link).toHaveAttribute("href", `/api/v1/manga/m-1/export?format=${format}`);
      expect(link).toHaveAttribute("download");
    }
  });

  it("shows a partial job's failed panels, draws one again, selects it and updates the page", async () => {
    const user = userEvent.setup();
    const failed = version({
      task_id: "child-2",
      status: "failed",
      progress: 0,
      error: { code: "provider_upstream_error", message: "the provider is down" },
    });
    let view = job({
      status: "partial",
      stage: "done",
      progress: 100,
      panels: [
        panel(1, [version({ status: "completed", progress: 100, image: image() })]),
        panel(2, [failed]),
      ],
      page: page(),
      exports: EXPORTS,
      failures: [
        {
          panel_number: 2,
          version: 1,
          task_id: "child-2",
          code: "provider_upstream_error",
          message: "the provider is down",
        },
      ],
    });
    const redrawn = version({
      version: 2,
      task_id: "child-3",
      status: "pending",
      progress: 0,
      selected: false,
      text: "a storm",
    });
    let regenerated: unknown = null;
    let selected: unknown = null;
    taskServer([parentTask("partial")], {
      "GET /api/v1/manga/{id}": () => view,
      "POST /api/v1/manga/{id}/panels/{n}/versions": (call) => {
        regenerated = call.body;
        return json(redrawn, 201);
      },
      "PUT /api/v1/manga/{id}/panels/{n}": (call) => {
        selected = call.body;
        view = {
          ...view,
          panels: [
            view.panels[0]!,
            panel(
              2,
              [
                failed,
                {
                  ...redrawn,
                  status: "completed",
                  progress: 100,
                  image: image({ image_id: "p2v2" }),
                  selected: true,
                },
              ],
              2,
            ),
          ],
          page: page(1, true),
        };
        return view;
      },
      "POST /api/v1/manga/{id}/page": () => {
        view = { ...view, status: "completed", failures: [], page: page(2) };
        return view;
      },
    });
    renderApp(<AppRoutes />, { route: "/manga?job=m-1" });
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Some panels could not be drawn");
    expect(alert).toHaveTextContent("Panel 2: the provider is down");
    const second = screen.getByRole("article", { name: /Panel 2/ });
    expect(within(second).getByText("Version 1 failed: the provider is down")).toBeInTheDocument();

    await user.click(within(second).getByText("Draw again"));
    await user.type(within(second).getByLabelText("New scene (optional)"), "a storm");
    await user.click(within(second).getByRole("button", { name: "Draw panel 2 again" }));
    await waitFor(() => expect(regenerated).toEqual({ text: "a storm" }));
    const pending = await within(second).findByRole("radio", { name: /Version 2/ });
    expect(pending).toBeDisabled();

    // the new version finishes: its event refetches the job
    view = {
      ...view,
      panels: [
        view.panels[0]!,
        panel(2, [
          failed,
          { ...redrawn, status: "completed", progress: 100, image: image({ image_id: "p2v2" }) },
        ]),
      ],
    };
    const socket = FakeSocket.latest();
    act(() => socket.open());
    act(() => socket.emit(event("child-3", 4, { type: "completed", status: "completed", progress: 100 })));
    const ready = await within(second).findByRole("radio", { name: "Version 2" });
    await waitFor(() => expect(ready).toBeEnabled());
    await user.click(ready);
    await waitFor(() => expect(selected).toEqual({ version: 2 }));
    expect(await screen.findByText("The versions you chose are not on the page yet.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Update the page" }));
    expect(await screen.findByRole("img", { name: "The manga page: The red cap" })).toHaveAttribute(
      "src",
      "/api/v1/images/page-2",
    );
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("explains a refusal in words", async () => {
    taskServer([parentTask()], {
      "GET /api/v1/manga/{id}": () =>
        json({ error: "not_found", message: "task not found", details: null }, 404),
    });
    renderApp(<AppRoutes />, { route: "/manga?job=gone" });
    expect(
      await screen.findByText("It no longer exists (deleted, or made in another browser session)."),
    ).toBeInTheDocument();
  });
});
