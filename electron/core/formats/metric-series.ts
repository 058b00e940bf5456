// A metric's values over training, as other programs' logs record them: Keras's CSVLogger by
// epoch, Hugging Face Trainer's log_history by step. One shape for charting them and for
// attaching to checkpoints the values at their epoch or step.

/** A value that was not a finite number in the log (NaN, Infinity) is null: a gap, not a point at zero. */
export type MetricSeries =
  | { readonly name: string; readonly by: 'epoch'; readonly points: readonly { readonly epoch: number; readonly value: number | null }[] }
  | { readonly name: string; readonly by: 'step'; readonly points: readonly { readonly step: number; readonly value: number | null }[] };
