import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  /** One value per x; null leaves a gap. */
  values: Array<number | null>;
  dash?: number[];
}

export interface ChartMark {
  /** Epoch seconds. */
  at: number;
  label: string;
  color: string;
}

interface Props {
  title: string;
  /** Epoch seconds. */
  xs: number[];
  series: ChartSeries[];
  marks?: ChartMark[];
  /** Formats a y value (rates as percentages). */
  format?: (v: number) => string;
  /** The time range shown, epoch seconds (the release's life so far), whatever the points cover. */
  xRange: [number, number];
}

const AXIS = { stroke: '#c8ccd4', grid: { stroke: '#2c3038' }, ticks: { stroke: '#2c3038' } };

/** Decisions (gate verdicts, commands) as labelled vertical lines over the series. */
function marksPlugin(marks: ChartMark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const { ctx } = u;
        ctx.save();
        ctx.font = `${12 * devicePixelRatio}px system-ui`;
        marks.forEach((mark, i) => {
          const x = u.valToPos(mark.at, 'x', true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          ctx.strokeStyle = mark.color;
          ctx.fillStyle = mark.color;
          ctx.setLineDash([4, 4]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          // Decisions close in time would print over each other: their labels step down.
          ctx.fillText(mark.label, x + 4, u.bbox.top + (14 + 16 * (i % 4)) * devicePixelRatio);
        });
        ctx.restore();
      },
    },
  };
}

/** A uPlot time series; the figure carries a text summary for screen readers. */
export function Chart({ title, xs, series, marks = [], format = (v) => v.toFixed(3), xRange }: Props) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el || xs.length === 0) return;
    const plot = new uPlot(
      {
        width: Math.max(320, el.clientWidth),
        height: 220,
        plugins: [marksPlugin(marks)],
        scales: { x: { time: true, range: () => xRange }, y: { range: (_u, _min, max) => [0, Math.max(max * 1.2, 0.01)] } },
        axes: [AXIS, { ...AXIS, values: (_u, ticks) => ticks.map(format), size: 70 }],
        legend: { live: false },
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, dash: s.dash, spanGaps: true, value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)) }))],
      },
      [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    return () => plot.destroy();
  }, [xs, series, marks, format, xRange]);
  const summary = series.map((s) => `${s.label}: latest ${(() => {
    const last = [...s.values].reverse().find((v) => v !== null);
    return last === undefined || last === null ? 'no data' : format(last);
  })()}`).join('; ');
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {xs.length === 0 ? <p class="muted">No data in this range yet: devices have not reported.</p> : <div ref={host} role="img" aria-label={`${title}. ${summary}`} />}
    </figure>
  );
}
