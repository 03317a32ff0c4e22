import { QueryClient } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router";
import { Providers } from "../app/App";
import type { Lang } from "../i18n";
import { SeqStore } from "../live/seqs";
import { LiveTasks } from "../live/transport";
import { FakeSocket } from "./fakes";

/** Renders with the real providers: a fresh query cache, live events over a FakeSocket. */
export function renderApp(ui: ReactElement, { route = "/", lang = "en" as Lang } = {}) {
  FakeSocket.all = [];
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  const live = new LiveTasks({
    origin: "http://localhost:5173",
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    seqs: new SeqStore(null),
  });
  const view = render(
    <Providers queryClient={queryClient} live={live} lang={lang}>
      <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
    </Providers>,
  );
  return { ...view, queryClient, live };
}
