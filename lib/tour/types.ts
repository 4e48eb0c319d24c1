// The contract between the tour's driver (lib/tour/main.ts) and its sections
// (lib/tour/sections/*.ts). A section reproduces one article's claims with the library's own
// kernels: it returns rows (the claim, the number computed, pass or fail) and may write plots.

/** One line of a section's table. `pass: null` marks an informational row (no claim checked). */
export interface TourRow {
  claim: string;
  computed: string;
  pass: boolean | null;
}

/** What the driver hands to each section. */
export interface TourContext {
  /** Shorter runs (fewer steps or trials) for tests; the claims must still hold. */
  readonly quick: boolean;
  /** The folder plots go into (default ./kexue-tour). */
  readonly outDir: string;
  /** Reports progress of a long part (drawn as a progress bar on a terminal). */
  progress(label: string, done: number, total: number): void;
  /** Renders a Vega-Lite spec (a plain JSON object) to `${outDir}/${file}` as SVG; returns the path. */
  plot(file: string, spec: Record<string, unknown>): Promise<string>;
  /** A free-form line under the section's table (e.g. a terminal heatmap). */
  note(line: string): void;
}

export interface TourSection {
  /** The name `npm start -- --section NAME` selects (lowercase, no spaces). */
  name: string;
  /** The table's heading: the article and its claim in a few words. */
  title: string;
  run(ctx: TourContext): Promise<TourRow[]>;
}
