import { useId, useState, type FormEvent } from "react";
import { useI18n } from "../../i18n";
import { NO_FILTERS, splitTags, type Collection, type LibraryFilters } from "./api";

interface Props {
  q: string;
  filters: LibraryFilters;
  collections: Collection[];
  onSearch: (q: string, filters: LibraryFilters) => void;
  onClear: () => void;
  onExample: (file: File) => void;
  exampleBusy: boolean;
}

const active = (filters: LibraryFilters): boolean =>
  Boolean(
    filters.tags.length ||
    filters.collection ||
    filters.from ||
    filters.to ||
    filters.minWidth ||
    filters.minHeight,
  );

/** Words to search for and the filters; the page keeps both in the address. Mounted again
 * (a new `key`) when the address changes, so it always starts from what is shown. */
export function SearchForm({ q, filters, collections, onSearch, onClear, onExample, exampleBusy }: Props) {
  const { t } = useI18n();
  const ids = useId();
  const [text, setText] = useState(q);
  const [tags, setTags] = useState(filters.tags.join(", "));
  const [draft, setDraft] = useState<LibraryFilters>(filters);
  const [open] = useState(() => active(filters));
  const set = (name: keyof LibraryFilters, value: string) => setDraft((d) => ({ ...d, [name]: value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(text.trim(), { ...draft, tags: splitTags(tags) });
  };

  const clear = () => {
    setText("");
    setTags("");
    setDraft(NO_FILTERS);
    onClear();
  };

  return (
    <form
      className="lib-search"
      role="search"
      aria-label={t("library.searchLabel")}
      onSubmit={submit}
      noValidate
    >
      <div className="lib-search__bar">
        <label className="sr-only" htmlFor={`${ids}-q`}>
          {t("library.searchLabel")}
        </label>
        <input
          id={`${ids}-q`}
          type="search"
          value={text}
          maxLength={500}
          placeholder={t("library.searchHint")}
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="button button--primary">
          {t("library.search")}
        </button>
        <button type="button" className="button" onClick={clear}>
          {t("library.clear")}
        </button>
      </div>
      <details className="lib-search__filters" open={open}>
        <summary>{t("library.filters")}</summary>
        <div className="row">
          <div className="field">
            <label htmlFor={`${ids}-tags`}>{t("library.filterTags")}</label>
            <input
              id={`${ids}-tags`}
              type="text"
              value={tags}
              placeholder={t("library.tagsHint")}
              onChange={(e) => setTags(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-collection`}>{t("library.collection")}</label>
            <select
              id={`${ids}-collection`}
              value={draft.collection}
              onChange={(e) => set("collection", e.target.value)}
            >
              <option value="">{t("library.allImages")}</option>
              {collections.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor={`${ids}-from`}>{t("library.from")}</label>
            <input
              id={`${ids}-from`}
              type="date"
              value={draft.from}
              onChange={(e) => set("from", e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-to`}>{t("library.to")}</label>
            <input
              id={`${ids}-to`}
              type="date"
              value={draft.to}
              onChange={(e) => set("to", e.target.value)}
            />
          </div>
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor={`${ids}-minw`}>{t("library.minWidth")}</label>
            <input
              id={`${ids}-minw`}
              type="number"
              min={1}
              inputMode="numeric"
              value={draft.minWidth}
              onChange={(e) => set("minWidth", e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-minh`}>{t("library.minHeight")}</label>
            <input
              id={`${ids}-minh`}
              type="number"
              min={1}
              inputMode="numeric"
              value={draft.minHeight}
              onChange={(e) => set("minHeight", e.target.value)}
            />
          </div>
        </div>
      </details>
      <div className="lib-search__example">
        <label className={`button file-button${exampleBusy ? " file-button--busy" : ""}`}>
          {exampleBusy ? t("common.loading") : t("library.byExample")}
          <input
            className="file-button__input"
            type="file"
            accept="image/*"
            disabled={exampleBusy}
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = "";
              if (file) onExample(file);
            }}
          />
        </label>
        <p className="hint">{t("library.byExampleHint")}</p>
      </div>
    </form>
  );
}
