import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, useState, type ReactNode } from "react";
import { BrowserRouter, Route, Routes } from "react-router";
import { ensureSession } from "../api/client";
import { isApiError } from "../api/errors";
import { I18nProvider, type Lang } from "../i18n";
import { LiveProvider } from "../live/context";
import { LiveTasks } from "../live/transport";
import { Layout } from "./Layout";
import { NotFound } from "./NotFound";
import { pages } from "./pages";

const routes = pages.map((page) => ({ path: page.path, Page: lazy(page.load) }));

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // a 4xx will not change by asking again
        retry: (count, error) =>
          !(isApiError(error) && error.status >= 400 && error.status < 500) && count < 2,
        staleTime: 10_000,
      },
    },
  });
}

/** Everything the pages need: server state, live events, the language. Tests pass their
 * own clients. */
export function Providers({
  children,
  queryClient,
  live,
  lang,
}: {
  children: ReactNode;
  queryClient?: QueryClient;
  live?: LiveTasks;
  lang?: Lang;
}) {
  const [qc] = useState(() => queryClient ?? makeQueryClient());
  const [events] = useState(() => live ?? new LiveTasks({ ensureSession }));
  return (
    <QueryClientProvider client={qc}>
      <LiveProvider live={events}>
        <I18nProvider lang={lang}>{children}</I18nProvider>
      </LiveProvider>
    </QueryClientProvider>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        {routes.map(({ path, Page }) => (
          <Route key={path} path={path} element={<Page />} />
        ))}
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

export function App() {
  return (
    <Providers>
      <BrowserRouter>
        <AppRoutes />
      </BrowserRouter>
    </Providers>
  );
}
