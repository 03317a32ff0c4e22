import type { PresetSummary } from "../api/types";

interface Props {
  legend: string;
  name: string;
  presets: PresetSummary[];
  value: string;
  onChange: (id: string) => void;
  /** Label of the "no preset" choice. */
  none: string;
  /** One scrolling row instead of a grid. */
  strip?: boolean;
}

export function swatch(preset: PresetSummary): string {
  const { colour, accent } = preset.preview;
  return accent ? `linear-gradient(135deg, ${colour}, ${accent})` : colour;
}

/** A radio group of presets shown as cards with their colour swatch and emoji; arrow keys
 * move between them, as in any radio group. */
export function PresetPicker({ legend, name, presets, value, onChange, none, strip = false }: Props) {
  return (
    <fieldset className={strip ? "presets presets--strip" : "presets"}>
      <legend>{legend}</legend>
      <div className="presets__grid">
        <label className="preset">
          <input type="radio" name={name} value="" checked={value === ""} onChange={() => onChange("")} />
          <span className="preset__swatch preset__swatch--none" aria-hidden="true" />
          <span className="preset__name">{none}</span>
        </label>
        {presets.map((preset) => (
          <label className="preset" key={preset.id} title={preset.description}>
            <input
              type="radio"
              name={name}
              value={preset.id}
              checked={value === preset.id}
              onChange={() => onChange(preset.id)}
            />
            <span className="preset__swatch" style={{ background: swatch(preset) }} aria-hidden="true">
              {preset.preview.thumbnail}
            </span>
            <span className="preset__name">{preset.name}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
