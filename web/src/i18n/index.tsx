/** Chinese and English: a typed dictionary per language, a provider and `useI18n()`.
 * The language comes from the user's choice (kept in localStorage), else the browser. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { en, type MessageKey, type Messages } from "./en";
import { zh } from "./zh";

export type Lang = "en" | "zh";
export const LANGS: readonly Lang[] = ["en", "zh"];
export const LANG_NAMES: Record<Lang, string> = { en: "English", zh: "中文" };
const DICTIONARIES: Record<Lang, Messages> = { en, zh };
const STORAGE_KEY = "atelier.lang";

export type Vars = Record<string, string | number>;
export type Translate = (key: MessageKey, vars?: Vars) => string;

export function format(template: string, vars?: Vars): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function translator(lang: Lang): Translate {
  const messages = DICTIONARIES[lang];
  return (key, vars) => format(messages[key] ?? en[key] ?? key, vars);
}

/** The first of the browser's languages we speak; English otherwise. */
export function detectLanguage(languages: readonly string[] = navigator.languages ?? []): Lang {
  for (const tag of languages) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "zh" || base === "en") return base;
  }
  return "en";
}

function initialLanguage(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === "en" || saved === "zh") return saved;
  } catch {
    // storage may be disabled; fall back to the browser's languages
  }
  return detectLanguage();
}

interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: Translate;
  /** "3 minutes ago" */
  ago: (iso: string) => string;
  /** "12 sec", "2 min" */
  duration: (seconds: number) => string;
}

const Context = createContext<I18n | null>(null);

export function I18nProvider({ children, lang: fixed }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(() => fixed ?? initialLanguage());
  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // not persisted; the choice still holds for this page
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }, [lang]);
  const value = useMemo<I18n>(() => {
    const locale = lang === "zh" ? "zh-CN" : "en";
    const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    const seconds = new Intl.NumberFormat(locale, { style: "unit", unit: "second", unitDisplay: "short" });
    const minutes = new Intl.NumberFormat(locale, { style: "unit", unit: "minute", unitDisplay: "short" });
    return {
      lang,
      setLang,
      t: translator(lang),
      ago(iso) {
        const diff = (Date.parse(iso) - Date.now()) / 1000;
        const abs = Math.abs(diff);
        if (abs < 45) return relative.format(Math.round(diff), "second");
        if (abs < 2700) return relative.format(Math.round(diff / 60), "minute");
        if (abs < 64800) return relative.format(Math.round(diff / 3600), "hour");
        return relative.format(Math.round(diff / 86400), "day");
      },
      duration(value) {
        const s = Math.max(0, value);
        if (s < 90) return seconds.format(Math.max(1, Math.round(s)));
        return minutes.format(Math.round(s / 60));
      },
    };
  }, [lang, setLang]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(Context);
  if (!value) throw new Error("useI18n() outside <I18nProvider>");
  return value;
}
