import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { AppRoutes } from "../../app/App";
import { image, json, task } from "../../test/fakes";
import { renderApp } from "../../test/render";
import { taskServer } from "../../test/server";

describe("the Erase page", () => {
  it("uploads the photo with the background choice as one multipart request", async () => {
    const user = userEvent.setup();
    let form: FormData | null = null;
    const server = taskServer([], {
      "POST /api/v1/erase": (call) => {
        form = call.body as FormData;
        server.tasks.unshift(task({ task_id: "er-1", kind: "erase", params: { image_id: "up-1" } }));
        return json({ task_id: "er-1", status: "pending", created_at: new Date().toISOString() }, 201);
      },
    });
    renderApp(<AppRoutes />, { route: "/erase" });
    await screen.findByRole("heading", { level: 1, name: "Erase" });
    await user.click(screen.getByRole("button", { name: "Erase" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Choose a photo first.");
    await user.upload(
      screen.getByLabelText("Choose a file"),
      new File([new Uint8Array([137, 80, 78, 71])], "sign.png", { type: "image/png" }),
    );
    await user.type(screen.getByLabelText("Text to keep"), "ACME, Bob");
    await user.selectOptions(screen.getByLabelText("Background"), "color");
    await user.click(screen.getByRole("button", { name: "Erase" }));
    await waitFor(() => expect(form).not.toBeNull());
    const sent = form as unknown as FormData;
    expect((sent.get("photo") as File).name).toBe("sign.png");
    expect(sent.getAll("keep")).toEqual(["ACME", "Bob"]);
    expect(sent.get("redraw")).toBe("color");
    expect(sent.get("redraw_color")).toBe("#ffffff");
    expect(await screen.findByRole("article", { name: "Photo with text erased" })).toBeInTheDocument();
  });

  it("lists the stages of a running erase", async () => {
    taskServer([
      task({
        kind: "erase",
        status: "processing",
        progress: 40,
        stage: "erasing",
        params: { image_id: "a" },
      }),
    ]);
    renderApp(<AppRoutes />, { route: "/erase" });
    const stages = await screen.findByRole("list", { name: "Stages" });
    const items = within(stages).getAllByRole("listitem");
    expect(items).toHaveLength(8);
    expect(items[4]).toHaveAttribute("aria-current", "step");
    expect(items[4]).toHaveTextContent("Erasing (in progress)");
    expect(items[0]).toHaveTextContent("Checking the photo (done)");
  });

  it("shows a finished erase before and after, with its masks, report and download", async () => {
    const out = image({ image_id: "clean", width: 320, height: 240, format: "webp" });
    taskServer([
      task({
        kind: "erase",
        status: "completed",
        progress: 100,
        params: { image_id: "src-1" },
        result: {
          images: [out],
          image: out,
          text_mask: image({ image_id: "tm" }),
          subject_mask: image({ image_id: "sm" }),
          report: { total_seconds: 1.5, quality: { lines_erased: 2, lines_still_read: 0 } },
          source_image_id: "src-1",
        },
      }),
    ]);
    renderApp(<AppRoutes />, { route: "/erase" });
    const card = await screen.findByRole("article", { name: "Photo with text erased" });
    expect(within(card).getByRole("img", { name: "Before" })).toHaveAttribute("src", "/api/v1/images/src-1");
    expect(within(card).getByRole("img", { name: "After" })).toHaveAttribute("src", out.url);
    expect(
      within(card).getByRole("slider", { name: "Slide to compare before and after" }),
    ).toBeInTheDocument();
    expect(within(card).getByRole("img", { name: "Text mask" })).toHaveAttribute("src", "/api/v1/images/tm");
    expect(within(card).getByRole("img", { name: "Subject mask" })).toHaveAttribute(
      "src",
      "/api/v1/images/sm",
    );
    expect(within(card).getByText(/2 lines of text erased, 0 still readable/)).toBeInTheDocument();
    expect(within(card).getByRole("link", { name: "Download" })).toHaveAttribute(
      "download",
      "atelier-clean.webp",
    );
  });
});
