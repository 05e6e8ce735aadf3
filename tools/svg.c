/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inline SVG charts for vnmonctl's HTML report: see svg.h.  The SVG is
 * meant to be embedded in an HTML5 document, whose parser puts <svg> in the
 * SVG namespace by itself: no xmlns attribute, hence no URL anywhere.
 */
#include <config.h>

#include "tools/svg.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"

/* Font size of chart text, pixels, and the width of one character of it,
 * roughly, for laying out legends and labels without measuring text. */
#define FONT_SIZE 12
#define CHAR_WIDTH 7.5

/* Length of the well-formed UTF-8 sequence at 's' (1 to 4), or 0 if the
 * bytes there are not one (overlong forms, surrogates and code points past
 * U+10FFFF included). */
static size_t
utf8_sequence(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;

    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return n;
}

void
svg_escape(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;

    if (!s) {
        return;
    }
    while (*p) {
        size_t n = utf8_sequence(p);

        switch (*p) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            if (!n || (*p < 0x20 && *p != '\t' && *p != '\n')
                || *p == 0x7f) {
                /* Neither HTML nor XML may carry these: show that
                 * something was there. */
                fputs("&#xfffd;", f);
                n = 1;
            } else {
                fwrite(p, 1, n, f);
            }
            p += n;
            continue;
        }
        p++;
    }
}

void
svg_nice_scale(double max, int max_ticks, struct svg_scale *scale)
{
    static const double mults[] = { 1, 2, 5, 10 };
    double mag;

    if (!(max > 0) || max_ticks < 1) {
        scale->max = 1;
        scale->step = 1;
        scale->n_ticks = 1;
        return;
    }
    mag = pow(10, floor(log10(max / max_ticks)));
    for (size_t i = 0; i < VNM_ARRAY_SIZE(mults); i++) {
        double step = mults[i] * mag;
        /* The epsilon keeps 100 / 20 at 5 intervals, not 6, when the
         * division is inexact. */
        int n = (int) ceil(max / step - 1e-9);

        if (n <= max_ticks) {
            scale->step = step;
            scale->n_ticks = n < 1 ? 1 : n;
            scale->max = scale->n_ticks * step;
            return;
        }
    }
    /* Not reached: 10 * mag * max_ticks >= max by the choice of mag. */
    scale->step = 10 * mag;
    scale->n_ticks = max_ticks;
    scale->max = max_ticks * scale->step;
}

char *
svg_format_si(double v, const char *unit, char *buf, size_t size)
{
    static const char *const prefixes[] = { "", "k", "M", "G", "T", "P" };
    size_t i = 0;

    while (fabs(v) >= 999.5 && i + 1 < VNM_ARRAY_SIZE(prefixes)) {
        v /= 1000;
        i++;
    }
    snprintf(buf, size, "%.3g %s%s", v, prefixes[i], unit);
    return buf;
}

char *
svg_format_time(uint64_t t, char *buf, size_t size)
{
    time_t tt = (time_t) t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

double
svg_x(int width, size_t n, size_t i)
{
    double plot_w = width - SVG_MARGIN_LEFT - SVG_MARGIN_RIGHT;

    return (n > 1
            ? SVG_MARGIN_LEFT + (double) i * plot_w / (double) (n - 1)
            : SVG_MARGIN_LEFT + plot_w / 2);
}

double
svg_y(int height, const struct svg_scale *scale, double v)
{
    double plot_h = height - SVG_MARGIN_TOP - SVG_MARGIN_BOTTOM;

    v = v < 0 ? 0 : v > scale->max ? scale->max : v;
    return SVG_MARGIN_TOP + plot_h - v / scale->max * plot_h;
}

/* The spacing of time ticks: the first, not finer than the points'
 * 'step', that gives at most 8 ticks over 'range' seconds. */
static uint64_t
time_tick_step(uint64_t range, uint64_t step)
{
    static const uint64_t steps[] = {
        1, 5, 10, 15, 30, 60, 300, 600, 900, 1800, 3600, 2 * 3600,
        3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400,
        14 * 86400, 28 * 86400,
    };

    for (size_t i = 0; i < VNM_ARRAY_SIZE(steps); i++) {
        if (steps[i] >= step && range / steps[i] <= 8) {
            return steps[i];
        }
    }
    return 91 * 86400;
}

/* Writes the label of time tick 't' for ticks 'tick' apart over 'range'. */
static void
write_time_label(FILE *f, uint64_t t, uint64_t tick, uint64_t range)
{
    time_t tt = (time_t) t;
    struct tm tm;
    char buf[32];

    /* Literal formats only: -Wformat-nonliteral checks strftime() too. */
    gmtime_r(&tt, &tm);
    if (tick < 60) {
        strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    } else if (range <= 2 * 86400) {
        strftime(buf, sizeof buf, "%H:%M", &tm);
    } else if (tick >= 86400) {
        strftime(buf, sizeof buf, "%m-%d", &tm);
    } else {
        strftime(buf, sizeof buf, "%m-%d %H:%M", &tm);
    }
    fputs(buf, f);
}

/* Writes the opening <svg> tag, its accessible title and the visible one,
 * and a legend of 'n' entries (colour, name) right-aligned under the
 * title, where a long title cannot run into it. */
static void
write_frame(FILE *f, int width, int height, const char *title,
            const char *const *colors, const char *const *names, size_t n,
            const bool *dashed)
{
    double x;

    fprintf(f, "<svg class=\"chart\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\" font-family=\"sans-serif\" "
            "font-size=\"%d\"><title>", width, height, width, height,
            FONT_SIZE);
    svg_escape(f, title);
    fputs("</title>\n<text x=\"8\" y=\"16\" font-weight=\"bold\" "
          "font-size=\"13\">", f);
    svg_escape(f, title);
    fputs("</text>\n", f);

    /* Legend, right-aligned: each entry is a 14 px swatch, a gap, then
     * its name. */
    x = width - SVG_MARGIN_RIGHT;
    for (size_t i = n; i-- > 0;) {
        x -= 14 + 4 + strlen(names[i]) * CHAR_WIDTH + 12;
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "<line class=\"legend\" x1=\"%.1f\" y1=\"28\" "
                "x2=\"%.1f\" y2=\"28\" stroke=\"%s\" stroke-width=\"4\"%s/>"
                "<text x=\"%.1f\" y=\"32\">", x, x + 14, colors[i],
                dashed && dashed[i] ? " stroke-dasharray=\"4 2\"" : "",
                x + 18);
        svg_escape(f, names[i]);
        fputs("</text>\n", f);
        x += 14 + 4 + strlen(names[i]) * CHAR_WIDTH + 12;
    }
}

/* Writes points first..last (inclusive) of 'y' as "X,Y X,Y...". */
static void
write_points(FILE *f, const struct svg_time_chart *c,
             const struct svg_scale *scale, const double *y, size_t first,
             size_t last)
{
    for (size_t i = first; i <= last; i++) {
        fprintf(f, "%s%.1f,%.1f", i == first ? "" : " ",
                svg_x(c->width, c->n, i), svg_y(c->height, scale, y[i]));
    }
}

/* Draws one run of defined points of 'line'. */
static void
write_run(FILE *f, const struct svg_time_chart *c,
          const struct svg_scale *scale, const struct svg_line *line,
          size_t first, size_t last)
{
    double base = svg_y(c->height, scale, 0);

    if (first == last) {
        /* A lone point has no segment to draw: mark it. */
        fprintf(f, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\" "
                "fill=\"%s\"/>\n", svg_x(c->width, c->n, first),
                svg_y(c->height, scale, line->y[first]), line->color);
        return;
    }
    if (line->fill) {
        fprintf(f, "<polygon class=\"area\" fill=\"%s\" fill-opacity=\"0.18\" "
                "stroke=\"none\" points=\"", line->color);
        write_points(f, c, scale, line->y, first, last);
        fprintf(f, " %.1f,%.1f %.1f,%.1f\"/>\n",
                svg_x(c->width, c->n, last), base,
                svg_x(c->width, c->n, first), base);
    }
    fprintf(f, "<polyline class=\"line\" fill=\"none\" stroke=\"%s\" "
            "stroke-width=\"%s\"%s points=\"", line->color,
            line->dashed ? "1" : "1.8",
            line->dashed ? " stroke-dasharray=\"4 2\"" : "");
    write_points(f, c, scale, line->y, first, last);
    fputs("\"/>\n", f);
}

void
svg_time_chart_write(FILE *f, const struct svg_time_chart *c)
{
    const char *colors[8] = { NULL }, *names[8] = { NULL };
    bool dashed[8] = { false };
    size_t n_legend = c->n_lines < 8 ? c->n_lines : 8;
    int plot_right = c->width - SVG_MARGIN_RIGHT;
    int plot_bottom = c->height - SVG_MARGIN_BOTTOM;
    uint64_t range = c->n > 1 ? (c->n - 1) * c->step : c->step;
    uint64_t tick, t;
    struct svg_scale scale;
    double max = 0;
    char buf[64], buf2[64];

    for (size_t l = 0; l < c->n_lines; l++) {
        for (size_t i = 0; i < c->n; i++) {
            if (!isnan(c->lines[l].y[i]) && c->lines[l].y[i] > max) {
                max = c->lines[l].y[i];
            }
        }
    }
    svg_nice_scale(max, 5, &scale);

    for (size_t l = 0; l < n_legend; l++) {
        colors[l] = c->lines[l].color;
        names[l] = c->lines[l].name;
        dashed[l] = c->lines[l].dashed;
    }
    write_frame(f, c->width, c->height, c->title, colors, names, n_legend,
                dashed);

    /* Value axis: grid lines and labels. */
    for (int k = 0; k <= scale.n_ticks; k++) {
        double y = svg_y(c->height, &scale, k * scale.step);

        fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
                "y2=\"%.1f\" stroke=\"#dddddd\"/><text class=\"ytick\" "
                "x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                SVG_MARGIN_LEFT, y, plot_right, y, SVG_MARGIN_LEFT - 6,
                y + 4, svg_format_si(k * scale.step, c->unit, buf,
                                     sizeof buf));
    }

    /* Time axis: ticks on round UTC times. */
    tick = time_tick_step(range, c->step);
    for (t = (c->t0 + tick - 1) / tick * tick; t <= c->t0 + range;
         t += tick) {
        double x = (SVG_MARGIN_LEFT
                    + (double) (t - c->t0) / (double) range
                      * (plot_right - SVG_MARGIN_LEFT));

        fprintf(f, "<line class=\"xtick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
                "y2=\"%d\" stroke=\"#444444\"/><text x=\"%.1f\" y=\"%d\" "
                "text-anchor=\"middle\">", x, plot_bottom, x,
                plot_bottom + 5, x, plot_bottom + 17);
        write_time_label(f, t, tick, range);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text class=\"xlabel\" x=\"%d\" y=\"%d\" "
            "fill=\"#555555\">UTC, %s to %s, one point per ",
            SVG_MARGIN_LEFT, c->height - 6,
            svg_format_time(c->t0, buf, sizeof buf),
            svg_format_time(c->t0 + range, buf2, sizeof buf2));
    if (c->step == 1 || c->step == 60 || c->step == 3600) {
        fputs(c->step == 1 ? "second" : c->step == 60 ? "minute" : "hour",
              f);
    } else if (c->step % 3600 == 0) {
        fprintf(f, "%" PRIu64 " hours", c->step / 3600);
    } else if (c->step % 60 == 0) {
        fprintf(f, "%" PRIu64 " minutes", c->step / 60);
    } else {
        fprintf(f, "%" PRIu64 " seconds", c->step);
    }
    fputs("</text>\n", f);

    /* Axes over the grid. */
    fprintf(f, "<path class=\"axis\" d=\"M%d %dV%dH%d\" fill=\"none\" "
            "stroke=\"#444444\"/>\n", SVG_MARGIN_LEFT, SVG_MARGIN_TOP,
            plot_bottom, plot_right);

    for (size_t l = 0; l < c->n_lines; l++) {
        const struct svg_line *line = &c->lines[l];
        size_t i = 0;

        while (i < c->n) {
            size_t first;

            if (isnan(line->y[i])) {
                i++;
                continue;
            }
            first = i;
            while (i + 1 < c->n && !isnan(line->y[i + 1])) {
                i++;
            }
            write_run(f, c, &scale, line, first, i);
            i++;
        }
    }
    fputs("</svg>\n", f);
}

/* Layout of a bar chart, pixels. */
#define BAR_ROW 26              /* Height of one entity's row (2 bars). */
#define BAR_THICK 9             /* Height of one bar. */
#define BAR_TOP 42              /* Title and legend above the rows. */
#define BAR_VALUE_W 150         /* Room for the value after a bar. */

void
svg_bar_chart_write(FILE *f, const struct svg_bar_chart *c)
{
    int n_values = c->n_values == 1 ? 1 : 2;
    int row = n_values == 1 ? BAR_THICK + 8 : BAR_ROW;
    int height = BAR_TOP + (int) c->n_bars * row + 8;
    double label_w = 60, max = 0, bar_w;
    char buf[64];

    for (size_t i = 0; i < c->n_bars; i++) {
        double w = strlen(c->bars[i].label) * CHAR_WIDTH + 12;

        label_w = w > label_w ? w : label_w;
        for (int k = 0; k < n_values; k++) {
            max = c->bars[i].value[k] > max ? c->bars[i].value[k] : max;
        }
    }
    if (label_w > c->width / 2.0) {
        label_w = c->width / 2.0;
    }
    bar_w = c->width - label_w - BAR_VALUE_W;
    if (!(max > 0)) {
        max = 1;
    }

    write_frame(f, c->width, height, c->title, c->colors, c->names,
                (size_t) n_values, NULL);
    for (size_t i = 0; i < c->n_bars; i++) {
        const struct svg_bar *b = &c->bars[i];
        int y = BAR_TOP + (int) i * row;

        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\">",
                label_w - 8, y + (n_values == 1 ? BAR_THICK - 1
                                  : BAR_THICK + 4));
        svg_escape(f, b->label);
        fputs("</text>\n", f);
        for (int k = 0; k < n_values; k++) {
            double w = b->value[k] / max * bar_w;
            int by = y + k * (BAR_THICK + 1);

            fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%d\" "
                    "width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
                    "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>\n",
                    label_w, by, w > 0 && w < 1 ? 1 : w, BAR_THICK,
                    c->colors[k], label_w + w + 4, by + BAR_THICK - 1,
                    svg_format_si(b->value[k], c->unit, buf, sizeof buf));
        }
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
            "stroke=\"#444444\"/>\n</svg>\n", label_w, BAR_TOP - 4, label_w,
            height - 6);
}
