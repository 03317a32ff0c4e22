import { afterEach, describe, expect, it, vi } from "vitest";
import { json } from "../test/fakes";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

/** A fetch whose answers the test releases by hand, recording what was asked and when. */
function heldFetch() {
  const asked: string[] = [];
  const pending: Array<() => void> = [];
  const fetchMock = vi.fn((input: RequestInfo | URL) => {
    const url = new URL(input instanceof Request ? input.url : String(input), "http://localhost");
    asked.push(url.pathname + url.search);
    return new Promise<Response>((resolve) => {
      pending.push(() =>
        resolve(json(url.pathname === "/api/v1/models" ? { models: [] } : { items: [], next_cursor: null })),
      );
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  const releaseAll = () => pending.splice(0).forEach((release) => release());
  return { asked, releaseAll };
}

describe("the session gate", () => {
  it("lets requests made in parallel at start-up wait for one session to be minted", async () => {
    const net = heldFetch();
    const client = await import("./client");
    const models = client.fetchModels();
    const tasks = client.fetchTasks({}, 20);
    await vi.waitFor(() => expect(net.asked).toHaveLength(1));
    // only the minting request is out: the two page requests would each have minted a session
    expect(net.asked).toEqual(["/api/v1/tasks?limit=1"]);
    net.releaseAll();
    await vi.waitFor(() => expect(net.asked).toHaveLength(3));
    expect(net.asked.slice(1).sort()).toEqual(["/api/v1/models", "/api/v1/tasks?limit=20"]);
    net.releaseAll();
    await expect(models).resolves.toEqual([]);
    await expect(tasks).resolves.toMatchObject({ items: [] });
    // once held, requests go straight out
    const again = client.fetchModels();
    await vi.waitFor(() => expect(net.asked).toHaveLength(4));
    net.releaseAll();
    await expect(again).resolves.toEqual([]);
  });

  it("tries again when the minting request could not reach the server", async () => {
    const fetchMock = vi
      .fn()
      .mockRejectedValueOnce(new TypeError("Failed to fetch"))
      .mockImplementation(async () => json({ models: [] }));
    vi.stubGlobal("fetch", fetchMock);
    const client = await import("./client");
    await expect(client.fetchModels()).resolves.toEqual([]);
    const urls = fetchMock.mock.calls.map(
      ([input]) => new URL(input instanceof Request ? input.url : String(input), "http://localhost").pathname,
    );
    expect(urls).toEqual(["/api/v1/tasks", "/api/v1/models"]);
    await expect(client.fetchModels()).resolves.toEqual([]);
    await expect(client.fetchModels()).resolves.toEqual([]);
    // the next request minted again; after it held, none did
    expect(fetchMock).toHaveBeenCalledTimes(5);
    expect(String(fetchMock.mock.calls[2]![0])).toContain("/api/v1/tasks?limit=1");
  });
});
