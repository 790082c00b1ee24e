/** One benchmark result and the target it is checked against. */
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** `min`: the value must be at least the target; `max`: at most. */
  bound: 'min' | 'max';
  target: number;
}

export function meetsTarget(measurement: Measurement): boolean {
  return measurement.bound === 'min'
    ? measurement.value >= measurement.target
    : measurement.value <= measurement.target;
}
