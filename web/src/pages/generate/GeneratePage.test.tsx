import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { AppRoutes } from "../../app/App";
import { event, FakeSocket, image, json, task } from "../../test/fakes";
import { renderApp } from "../../test/render";
import { taskServer } from "../../test/server";
import { againParams, fromParams, toParams, emptyDraft } from "./draft";

async function openGenerate() {
  const view = renderApp(<AppRoutes />, { route: "/" });
  await screen.findByRole("heading", { level: 1, name: "Generate" });
  await screen.findByRole("option", { name: "procedural" });
  return view;
}

describe("the Generate page", () => {
  it("submits the settings as a generate task and follows it live to its results", async () => {
    const user = userEvent.setup();
    const server = taskServer();
    await openGenerate();

    await user.type(screen.getByLabelText("Prompt"), "a lighthouse at night");
    await user.selectOptions(screen.getByLabelText("Model"), "procedural");
    await user.selectOptions(screen.getByLabelText("Size"), "256x256");
    await user.selectOptions(screen.getByLabelText("Images"), "2");
    await user.type(screen.getByLabelText("Seed"), "42");
    await user.click(screen.getByRole("button", { name: "Generate" }));

    await waitFor(() => expect(server.calls.some((c) => c.method === "POST")).toBe(true));
    const post = server.calls.find((c) => c.method === "POST");
    expect(post?.body).toEqual({
      kind: "generate",
      params: {
        prompt: "a lighthouse at night",
        negative_prompt: "",
        model: "procedural",
        width: 256,
        height: 256,
        num_images: 2,
        steps: 8,
        scale: 0,
        seed: 42,
      },
    });

    const card = await screen.findByRole("article", { name: "a lighthouse at night" });
    const id = card.getAttribute("data-task-id")!;
    expect(within(card).getByText("Queued")).toBeInTheDocument();
    expect(within(card).getByText("Next in the queue")).toBeInTheDocument();

    const socket = FakeSocket.latest();
    act(() => socket.open());
    expect(socket.sent[0]).toEqual({ action: "subscribe", task_ids: [id], after: { [id]: 0 } });
    act(() => {
      socket.emit(event(id, 2, { type: "started", progress: 0 }));
      socket.emit(event(id, 3, { progress: 50, stage_progress: { current: 8, total: 16 } }));
    });
    const bar = within(card).getByRole("progressbar");
    await waitFor(() => expect(bar).toHaveAttribute("aria-valuenow", "50"));
    expect(within(card).getByText("step 8 of 16")).toBeInTheDocument();
    expect(within(card).getByText("Running")).toBeInTheDocument();

    const images = [image({ seed: 42 }), image({ seed: 43 })];
    act(() =>
      socket.emit(
        event(id, 4, {
          type: "completed",
          status: "completed",
          progress: 100,
          stage: "done",
          result: { images, provider: "procedural", model: "procedural", fallbacks: [] },
        }),
      ),
    );
    await waitFor(() => expect(bar).toHaveAttribute("aria-valuenow", "100"));
    expect(within(card).getByText("Done", { selector: ".badge" })).toBeInTheDocument();

    await user.click(within(card).getByRole("button", { name: "Open image 2 of 2" }));
    const dialog = await screen.findByRole("dialog", { name: "Image 2 of 2" });
    expect(within(dialog).getByRole("link", { name: "Download" })).toHaveAttribute("href", images[1]!.url);
    expect(within(dialog).getByText("Seed 43")).toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "Use seed 43" }));
    expect(screen.getByLabelText("Seed")).toHaveValue(43);
    expect(screen.getByLabelText("Prompt")).toHaveValue("a lighthouse at night");
  });

  it("runs a finished task again with the same settings and a new seed", async () => {
    const user = userEvent.setup();
    const done = task({
      status: "completed",
      progress: 100,
      params: {
        prompt: "dunes",
        width: 512,
        height: 512,
        num_images: 1,
        steps: 8,
        scale: 0,
        seed: 7,
        model: "procedural",
      },
    });
    const server = taskServer([done]);
    await openGenerate();
    const card = await screen.findByRole("article", { name: "dunes" });
    await user.click(within(card).getByRole("button", { name: "Again" }));
    await waitFor(() => expect(server.calls.some((c) => c.method === "POST")).toBe(true));
    const post = server.calls.find((c) => c.method === "POST");
    expect(post?.body).toEqual({
      kind: "generate",
      params: {
        prompt: "dunes",
        width: 512,
        height: 512,
        num_images: 1,
        steps: 8,
        scale: 0,
        model: "procedural",
      },
    });
    expect(await screen.findAllByRole("article", { name: "dunes" })).toHaveLength(2);
  });

  it("shows a rate limit with its wait and blocks the button meanwhile", async () => {
    const user = userEvent.setup();
    taskServer([], {
      "POST /api/v1/tasks": () =>
        json(
          {
            error: "rate_limit_exceeded",
            message: "too many submissions",
            details: { retry_after: 30 },
            retry_after: 30,
          },
          429,
          { "Retry-After": "30" },
        ),
    });
    await openGenerate();
    await user.type(screen.getByLabelText("Prompt"), "a fox");
    await user.click(screen.getByRole("button", { name: "Generate" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Too many requests. You can try again in 30 s.",
    );
    expect(screen.getByRole("button", { name: "Generate" })).toBeDisabled();
  });

  it("adds a style preset's words and suggested settings", async () => {
    const user = userEvent.setup();
    const server = taskServer([], {
      "GET /api/v1/presets/{kind}/{id}": (_call, { id }) => ({
        id,
        kind: "style",
        name: "Watercolour",
        description: "",
        tags: [],
        preview: { colour: "#336699", thumbnail: "" },
        params: { steps: 12, guidance: 3 },
        language: "en",
        prompt: "soft watercolour washes",
        negative_prompt: "harsh lines",
      }),
    });
    await openGenerate();
    await user.type(screen.getByLabelText("Prompt"), "a harbour");
    await user.click(await screen.findByRole("radio", { name: "Watercolour" }));
    expect(screen.getByLabelText("Steps")).toHaveValue(12);
    await user.click(screen.getByRole("button", { name: "Generate" }));
    await waitFor(() => expect(server.calls.some((c) => c.method === "POST")).toBe(true));
    const params = (
      server.calls.find((c) => c.method === "POST")?.body as { params: Record<string, unknown> }
    ).params;
    expect(params).toMatchObject({
      prompt: "a harbour, soft watercolour washes",
      negative_prompt: "harsh lines",
      steps: 12,
      scale: 3,
    });
  });
});

describe("the Generate draft", () => {
  it("round-trips a task's params", () => {
    const params = toParams({ ...emptyDraft, prompt: "x", size: "768x512", seed: "5", model: "auto" });
    expect(params).toEqual({
      prompt: "x",
      negative_prompt: "",
      width: 768,
      height: 512,
      num_images: 1,
      steps: 8,
      scale: 0,
      seed: 5,
      model: "auto",
    });
    expect(fromParams(params)).toMatchObject({ prompt: "x", size: "768x512", seed: "5", model: "auto" });
    expect(fromParams(params, 9).seed).toBe("9");
    expect(againParams(params)).not.toHaveProperty("seed");
    expect(toParams({ ...emptyDraft, prompt: "y" })).not.toHaveProperty("seed");
  });
});
