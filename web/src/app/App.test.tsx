import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { detectLanguage, format } from "../i18n";
import { en } from "../i18n/en";
import { zh } from "../i18n/zh";
import { renderApp } from "../test/render";
import { taskServer } from "../test/server";
import { AppRoutes } from "./App";
import { pages } from "./pages";

describe("the app shell", () => {
  it("has one navigation link per page and marks the current one", async () => {
    taskServer();
    renderApp(<AppRoutes />, { route: "/history" });
    const nav = screen.getByRole("navigation", { name: "Pages" });
    const links = Array.from(nav.querySelectorAll("a"));
    expect(links.map((a) => a.getAttribute("href"))).toEqual(pages.map((p) => p.path));
    expect(await screen.findByRole("heading", { level: 1, name: "History" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /History/ })).toHaveAttribute("aria-current", "page");
  });

  it("navigates between lazily loaded pages", async () => {
    const user = userEvent.setup();
    taskServer();
    renderApp(<AppRoutes />, { route: "/" });
    await screen.findByRole("heading", { level: 1, name: "Generate" });
    await user.click(screen.getByRole("link", { name: /Stylize/ }));
    expect(await screen.findByRole("heading", { level: 1, name: "Stylize" })).toBeInTheDocument();
  });

  it("answers unknown addresses with a page, not a blank screen", async () => {
    taskServer();
    renderApp(<AppRoutes />, { route: "/no/such/page" });
    expect(await screen.findByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });

  it("switches to Chinese and remembers the choice", async () => {
    const user = userEvent.setup();
    taskServer();
    renderApp(<AppRoutes />, { route: "/" });
    await screen.findByRole("heading", { level: 1, name: "Generate" });
    await user.selectOptions(screen.getByLabelText("Language"), "zh");
    expect(await screen.findByRole("heading", { level: 1, name: "生成" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: /历史/ })).toBeInTheDocument();
    await waitFor(() => expect(document.documentElement.lang).toBe("zh-CN"));
    expect(localStorage.getItem("atelier.lang")).toBe("zh");
  });
});

describe("the dictionaries", () => {
  it("pick the browser's language, English otherwise", () => {
    expect(detectLanguage(["zh-TW", "en-US"])).toBe("zh");
    expect(detectLanguage(["fr-FR", "en-GB"])).toBe("en");
    expect(detectLanguage(["de"])).toBe("en");
  });

  it("translate every key and keep the same placeholders", () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(en)) {
      const translated = zh[key as keyof typeof en];
      expect(translated.trim(), key).not.toBe("");
      expect(placeholders(translated), key).toEqual(placeholders(text));
    }
    expect(format("{n} ahead", { n: 3 })).toBe("3 ahead");
  });
});
