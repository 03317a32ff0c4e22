/** The app's pages: one entry each gives a route, a lazily loaded chunk and a nav link.
 * To add a page (erase, manga, library…): write `src/pages/<name>/<Name>Page.tsx` with a
 * default export, add an entry here and its `nav.<name>` label to the dictionaries. */
import type { ComponentType } from "react";
import type { MessageKey } from "../i18n/en";

export interface PageDef {
  path: string;
  nav: MessageKey;
  /** A decorative glyph shown beside the label. */
  icon: string;
  load: () => Promise<{ default: ComponentType }>;
}

export const pages: PageDef[] = [
  { path: "/", nav: "nav.generate", icon: "✦", load: () => import("../pages/generate/GeneratePage") },
  { path: "/stylize", nav: "nav.stylize", icon: "◐", load: () => import("../pages/stylize/StylizePage") },
  { path: "/manga", nav: "nav.manga", icon: "▦", load: () => import("../pages/manga/MangaPage") },
  { path: "/erase", nav: "nav.erase", icon: "⌫", load: () => import("../pages/erase/ErasePage") },
  { path: "/library", nav: "nav.library", icon: "▣", load: () => import("../pages/library/LibraryPage") },
  { path: "/history", nav: "nav.history", icon: "☰", load: () => import("../pages/history/HistoryPage") },
];
