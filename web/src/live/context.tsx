import { createContext, useContext, type ReactNode } from "react";
import type { LiveTasks } from "./transport";

const Context = createContext<LiveTasks | null>(null);

export function LiveProvider({ live, children }: { live: LiveTasks; children: ReactNode }) {
  return <Context.Provider value={live}>{children}</Context.Provider>;
}

export function useLive(): LiveTasks {
  const live = useContext(Context);
  if (!live) throw new Error("useLive() outside <LiveProvider>");
  return live;
}
