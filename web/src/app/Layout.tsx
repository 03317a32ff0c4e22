import { Suspense, useEffect, useRef } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { LANG_NAMES, LANGS, useI18n, type Lang } from "../i18n";
import { ErrorBoundary } from "./ErrorBoundary";
import { pages } from "./pages";

export function Layout() {
  const { t, lang, setLang } = useI18n();
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // after a navigation, move focus to the new page so keyboard and screen reader users
  // start at its content (not on the first load: the browser's focus is kept)
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [pathname]);

  return (
    <>
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <header className="topbar">
        <div className="topbar__inner">
          <NavLink to="/" className="brand" aria-label={t("app.name")}>
            <span aria-hidden="true">✦</span> <span>{t("app.name")}</span>
          </NavLink>
          <nav className="nav" aria-label={t("nav.label")}>
            <ul>
              {pages.map((page) => (
                <li key={page.path}>
                  <NavLink
                    to={page.path}
                    end
                    className="nav__link"
                    onPointerEnter={() => void page.load()}
                    onFocus={() => void page.load()}
                  >
                    <span aria-hidden="true" className="nav__icon">
                      {page.icon}
                    </span>
                    {t(page.nav)}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <label className="lang">
            <span className="sr-only">{t("lang.label")}</span>
            <select value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
              {LANGS.map((code) => (
                <option key={code} value={code} lang={code}>
                  {LANG_NAMES[code]}
                </option>
              ))}
            </select>
          </label>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="main">
        <ErrorBoundary
          resetKey={pathname}
          fallback={(reset) => (
            <div className="notice notice--error" role="alert">
              <p>{t("app.pageFailed")}</p>
              <button type="button" className="button" onClick={reset}>
                {t("common.retry")}
              </button>
            </div>
          )}
        >
          <Suspense fallback={<p role="status">{t("app.loadingPage")}</p>}>
            <Outlet />
          </Suspense>
        </ErrorBoundary>
      </main>
    </>
  );
}
