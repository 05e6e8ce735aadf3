/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inline SVG charts and HTML/XML escaping for vnmonctl's self-contained
 * reports (tools/report-html.c), and the number formatting that vnmonctl's
 * text views share with them.  Output goes to a stdio stream; nothing here
 * refers to any external resource (no fonts, scripts or stylesheets), so
 * that a report opens the same on a machine without network access.
 *
 * Geometry.  A chart is 'width' x 'height' pixels: its title on the first
 * line, its legend right-aligned on the second, and its plot area inset by
 * SVG_MARGIN_LEFT/RIGHT/TOP/BOTTOM.  The value axis starts at 0 and ends
 * at the "nice" maximum of svg_nice_scale(); the time axis runs from the
 * first point (left edge) to the last (right edge).  Coordinates are
 * printed with one decimal, so that a test can compute the points of known
 * data exactly (svg_x(), svg_y()).
 */
#ifndef VNM_TOOLS_SVG_H
#define VNM_TOOLS_SVG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Plot area insets, pixels. */
#define SVG_MARGIN_LEFT 78
#define SVG_MARGIN_RIGHT 16
#define SVG_MARGIN_TOP 42
#define SVG_MARGIN_BOTTOM 42

/* Colours of the two directions, used by every chart and by the legend, so
 * that a reader (or a test looking at a screenshot) can tell them apart. */
#define SVG_TX_COLOR "#1f6fd1"  /* Blue: what the entity sent. */
#define SVG_RX_COLOR "#e8590c"  /* Orange: what it received. */

/* Writes 's' to 'f' escaped for HTML/XML text and attribute values: '&',
 * '<', '>', '"' and '\'' become entities, control characters other than
 * tab and newline become U+FFFD, and so does every byte that is not part
 * of well-formed UTF-8 (names come from Redis and may be anything).  A
 * null 's' writes nothing. */
void svg_escape(FILE *f, const char *s);

/* A value axis from 0 to 'max' in 'n_ticks' + 1 ticks of 'step'. */
struct svg_scale {
    double max;                 /* n_ticks * step, >= the data's maximum. */
    double step;                /* 1, 2 or 5 times a power of ten. */
    int n_ticks;
};

/* Fills '*scale' for data whose maximum is 'max' (>= 0) with at most
 * 'max_ticks' (>= 1) intervals: the smallest "nice" step (1, 2, 5 x 10^k)
 * that covers 'max' in that many intervals.  A zero or negative 'max'
 * gives the scale 0..1. */
void svg_nice_scale(double max, int max_ticks, struct svg_scale *scale);

/* Formats 'v' with SI prefixes (k, M, G, T, P: powers of 1000) and three
 * significant digits, then 'unit': "0 bit/s", "950 bit/s", "1.25 Mbit/s",
 * "12.5 GB".  Returns 'buf'. */
char *svg_format_si(double v, const char *unit, char *buf, size_t size);

/* Formats 't' (seconds since the epoch, UTC) as "2026-11-21 09:14".
 * Returns 'buf'. */
char *svg_format_time(uint64_t t, char *buf, size_t size);

/* One line of a time chart. */
struct svg_line {
    const char *name;           /* Legend text (escaped here). */
    const char *color;          /* CSS colour, e.g. SVG_TX_COLOR. */
    const double *y;            /* 'n' values (chart 'n'); NAN: no data,
                                 * which breaks the line. */
    bool fill;                  /* Shade the area under the line. */
    bool dashed;                /* Draw dashed (e.g. peak-second lines). */
};

/* A chart of values over time. */
struct svg_time_chart {
    const char *title;          /* Above the plot (escaped here). */
    const char *unit;           /* Of the values, e.g. "bit/s". */
    uint64_t t0;                /* Time of point 0, seconds since epoch. */
    uint64_t step;              /* Seconds between points (> 0). */
    size_t n;                   /* Points per line. */
    const struct svg_line *lines;
    size_t n_lines;
    int width, height;          /* Pixels. */
};

/* The x coordinate of point 'i' of 'n', and the y coordinate of value 'v'
 * on 'scale', in a chart of 'width' x 'height' (what svg_time_chart_write()
 * draws, before rounding to one decimal). */
double svg_x(int width, size_t n, size_t i);
double svg_y(int height, const struct svg_scale *scale, double v);

/* Writes 'chart' to 'f' as one <svg> element: axes with value ticks
 * (formatted with the unit) and UTC time ticks, one <polyline> per run of
 * defined points of each line (class "line", with an area <polygon> of
 * class "area" under it if 'fill'), and a legend.  Points are written as
 * "X,Y" pairs, one decimal. */
void svg_time_chart_write(FILE *f, const struct svg_time_chart *chart);

/* One entity of a bar chart: two values side by side (e.g. tx and rx). */
struct svg_bar {
    const char *label;          /* Escaped here. */
    double value[2];
};

/* A horizontal bar chart: one row per bar, the first 'n_values' (1 or 2)
 * values as bars of 'colors[i]' named 'names[i]' in the legend, scaled to
 * the largest value, each with its value written at its end. */
struct svg_bar_chart {
    const char *title;
    const char *unit;
    const struct svg_bar *bars;
    size_t n_bars;
    int n_values;               /* 1 or 2. */
    const char *colors[2];
    const char *names[2];
    int width;                  /* Height follows from 'n_bars'. */
};

void svg_bar_chart_write(FILE *f, const struct svg_bar_chart *chart);

#endif /* svg.h */
