import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { AppRoutes } from "../../app/App";
import { image, json, task } from "../../test/fakes";
import { renderApp } from "../../test/render";
import { taskServer } from "../../test/server";

const created = (id: string) =>
  json(
    {
      task_id: id,
      status: "pending",
      created_at: new Date().toISOString(),
      queue_position: 0,
      estimated_time: 2,
    },
    201,
  );

async function openStylize() {
  renderApp(<AppRoutes />, { route: "/stylize" });
  await screen.findByRole("heading", { level: 1, name: "Stylize" });
  await screen.findByRole("radio", { name: "Watercolour" });
}

describe("the Stylize page", () => {
  it("uploads a chosen photo with the style as one multipart request", async () => {
    const user = userEvent.setup();
    let form: FormData | null = null;
    const server = taskServer([], {
      "POST /api/v1/stylize": (call) => {
        form = call.body as FormData;
        server.tasks.unshift(
          task({ task_id: "st-1", kind: "stylize", params: { image_id: "up-1", style: "watercolor" } }),
        );
        return created("st-1");
      },
    });
    await openStylize();
    const file = new File([new Uint8Array([137, 80, 78, 71])], "me.png", { type: "image/png" });
    await user.upload(screen.getByLabelText("Choose a file"), file);
    expect(screen.getByLabelText("Take a photo")).toHaveAttribute("capture", "environment");
    expect(await screen.findByRole("img", { name: "The chosen photo" })).toBeInTheDocument();
    await user.click(screen.getByRole("radio", { name: "Watercolour" }));
    await user.click(screen.getByRole("radio", { name: "West Lake" }));
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    await waitFor(() => expect(form).not.toBeNull());
    const sent = form as unknown as FormData;
    expect(sent.get("style")).toBe("watercolor");
    expect(sent.get("location")).toBe("west-lake");
    expect(sent.get("language")).toBe("en");
    expect(sent.get("num_images")).toBe("1");
    expect((sent.get("photo") as File).name).toBe("me.png");
    expect(await screen.findByRole("article", { name: "Watercolour" })).toBeInTheDocument();
  });

  it("restyles one of the caller's images by id", async () => {
    const user = userEvent.setup();
    const mine = image({ image_id: "lib-1" });
    const server = taskServer([
      task({
        status: "completed",
        progress: 100,
        params: { prompt: "old work" },
        result: { images: [mine] },
      }),
    ]);
    await openStylize();
    await user.click(await screen.findByRole("button", { name: "Use image 1" }));
    expect(screen.getByRole("button", { name: "Use image 1" })).toHaveAttribute("aria-pressed", "true");
    await user.type(screen.getByLabelText("Extra words"), "in autumn");
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    await waitFor(() => expect(server.calls.some((c) => c.method === "POST")).toBe(true));
    expect(server.calls.find((c) => c.method === "POST")?.body).toEqual({
      kind: "stylize",
      params: { image_id: "lib-1", text: "in autumn", language: "en", num_images: 1 },
    });
  });

  it("asks for a photo and a style before sending anything", async () => {
    const user = userEvent.setup();
    const server = taskServer();
    await openStylize();
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Choose a photo first.");
    await user.upload(
      screen.getByLabelText("Choose a file"),
      new File(["x"], "a.png", { type: "image/png" }),
    );
    await user.click(screen.getByRole("button", { name: "Stylize" }));
    expect(screen.getByRole("alert")).toHaveTextContent("Choose a style or a location, or write some words.");
    expect(server.calls.some((c) => c.method === "POST")).toBe(false);
  });

  it("shows a finished restyle before and after", async () => {
    const out = image({ image_id: "out-1", width: 300, height: 200 });
    taskServer([
      task({
        kind: "stylize",
        status: "completed",
        progress: 100,
        params: { image_id: "src-1", style: "sketch" },
        result: {
          images: [out],
          source_image_id: "src-1",
          provider: "classical",
          model: "classical",
          fallbacks: [],
        },
      }),
    ]);
    await openStylize();
    const card = await screen.findByRole("article", { name: "Sketch" });
    expect(within(card).getByRole("img", { name: "Before" })).toHaveAttribute("src", "/api/v1/images/src-1");
    expect(within(card).getByRole("img", { name: "After" })).toHaveAttribute("src", out.url);
    const slider = within(card).getByRole("slider", { name: "Slide to compare before and after" });
    expect(slider).toHaveValue("50");
  });
});
