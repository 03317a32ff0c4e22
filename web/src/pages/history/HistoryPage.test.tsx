import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { AppRoutes } from "../../app/App";
import { image, task } from "../../test/fakes";
import { renderApp } from "../../test/render";
import { taskServer } from "../../test/server";

const running = () =>
  task({
    status: "processing",
    progress: 40,
    stage: "generating",
    started_at: new Date().toISOString(),
    params: { prompt: "a running task" },
  });

describe("the History page", () => {
  it("lists every task with its status, results and errors in plain words", async () => {
    taskServer([
      running(),
      task({
        status: "completed",
        progress: 100,
        params: { prompt: "a finished task" },
        result: {
          images: [image(), image()],
          provider: "procedural",
          model: "procedural",
          fallbacks: ["seedream"],
        },
      }),
      task({
        status: "failed",
        params: { prompt: "a refused task" },
        error: { code: "content_rejected", message: "blocked by policy" },
      }),
    ]);
    renderApp(<AppRoutes />, { route: "/history" });
    const done = await screen.findByRole("article", { name: "a finished task" });
    expect(within(done).getAllByRole("button", { name: /Open image/ })).toHaveLength(2);
    expect(
      within(done).getByText("seedream was unavailable, so procedural made this instead."),
    ).toBeInTheDocument();
    const failed = screen.getByRole("article", { name: "a refused task" });
    expect(within(failed).getByText(/refused this under its content rules/)).toBeInTheDocument();
    expect(within(failed).queryByRole("button", { name: "Cancel" })).toBeNull();
    const active = screen.getByRole("article", { name: "a running task" });
    expect(within(active).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "40");
    expect(screen.getByText("3 shown")).toBeInTheDocument();
  });

  it("filters by status and kind through the API's query", async () => {
    const user = userEvent.setup();
    const server = taskServer([
      running(),
      task({ status: "completed", progress: 100, params: { prompt: "old" } }),
    ]);
    renderApp(<AppRoutes />, { route: "/history" });
    await screen.findByRole("article", { name: "old" });
    await user.selectOptions(screen.getByLabelText("Status"), "active");
    await waitFor(() => expect(screen.queryByRole("article", { name: "old" })).toBeNull());
    expect(screen.getByRole("article", { name: "a running task" })).toBeInTheDocument();
    const last = server.calls.filter((c) => c.path === "/api/v1/tasks").at(-1)!;
    expect(last.url.searchParams.getAll("status")).toEqual(["pending", "processing", "retrying"]);
    await user.selectOptions(screen.getByLabelText("Kind"), "stylize");
    expect(await screen.findByText("No tasks match these filters.")).toBeInTheDocument();
    const latest = server.calls.filter((c) => c.path === "/api/v1/tasks").at(-1)!;
    expect(latest.url.searchParams.getAll("kind")).toEqual(["stylize"]);
  });

  it("cancels a running task and deletes a task after confirmation", async () => {
    const user = userEvent.setup();
    const server = taskServer([running()]);
    renderApp(<AppRoutes />, { route: "/history" });
    const card = await screen.findByRole("article", { name: "a running task" });
    await user.click(within(card).getByRole("button", { name: "Cancel" }));
    await waitFor(() =>
      expect(within(card).getByText("Cancelled", { selector: ".badge" })).toBeInTheDocument(),
    );
    expect(server.calls.some((c) => c.method === "POST" && c.path.endsWith("/cancel"))).toBe(true);

    await user.click(within(card).getByRole("button", { name: "Delete" }));
    const confirm = within(card).getByRole("group", { name: "Delete this task and its images?" });
    await user.click(within(confirm).getByRole("button", { name: "Yes, delete" }));
    await waitFor(() => expect(screen.queryByRole("article", { name: "a running task" })).toBeNull());
    expect(server.calls.some((c) => c.method === "DELETE")).toBe(true);
    expect(server.tasks).toHaveLength(0);
  });

  it("keeps a task when the deletion is not confirmed", async () => {
    const user = userEvent.setup();
    const server = taskServer([running()]);
    renderApp(<AppRoutes />, { route: "/history" });
    const card = await screen.findByRole("article", { name: "a running task" });
    await user.click(within(card).getByRole("button", { name: "Delete" }));
    await user.click(within(card).getByRole("button", { name: "Keep" }));
    expect(within(card).getByRole("button", { name: "Delete" })).toBeInTheDocument();
    expect(server.calls.some((c) => c.method === "DELETE")).toBe(false);
  });
});
