/*
 * `socctl report --html FILE`: the leadership report as one page a
 * provincial leader can open from an email attachment.  Self-contained
 * on purpose: inline CSS, inline SVG bar charts, no scripts, no fonts,
 * images or links to fetch, so it renders the same offline and passes
 * mail filters that strip active content.  Written in Vietnamese
 * (lang="vi", UTF-8), with every name from the database escaped; the
 * markup is also well-formed XML (void elements closed, only the five
 * XML entities), so a plain XML parser can check it where no browser is
 * at hand.  The file is written beside its final name and renamed, so a
 * reader never sees half a page.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soc/json.h"
#include "store.h"
#include "socctl.h"
#include "socctl-leadership.h"

/* Severity labels and bar colours, critical first (the reading order). */
static const char *const sev_vi[5] = {
	"Thông tin", "Thấp", "Trung bình", "Cao", "Nghiêm trọng"
};
static const char *const sev_color[5] = {
	"#9ca3af", "#3b82f6", "#f59e0b", "#dc2626", "#7f1d1d"
};

#define CHART_LABEL	280	/* px for the agency names */
#define CHART_BAR	420	/* px for the longest bar */
#define CHART_ROW	26

static const char css[] =
	"body{font-family:'Segoe UI',Roboto,'Noto Sans',Arial,sans-serif;"
	"color:#111827;margin:24px auto;max-width:1000px;padding:0 16px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:1px solid #e5e7eb;padding-bottom:4px}"
	".meta{color:#4b5563;margin:2px 0}"
	".tiles{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}"
	".tile{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;"
	"min-width:150px}.tile .v{font-size:22px;font-weight:600}"
	".tile .k{color:#4b5563;font-size:13px}"
	"table{border-collapse:collapse;width:100%;font-size:13px}"
	"th,td{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:right}"
	"th:first-child,td:first-child{text-align:left}"
	"th{background:#f3f4f6}.legend span{display:inline-block;margin-right:14px;"
	"font-size:13px}.legend i{display:inline-block;width:12px;height:12px;"
	"margin-right:4px;vertical-align:-1px}"
	"svg text{font-size:13px;fill:#111827}"
	"footer{margin-top:28px;color:#6b7280;font-size:12px}";

/* Appends s with & < > " ' escaped (text and attribute values alike). */
static void
h_esc(struct soc_sbuf *b, const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		switch (*p) {
		case '&': soc_sbuf_adds(b, "&amp;"); break;
		case '<': soc_sbuf_adds(b, "&lt;"); break;
		case '>': soc_sbuf_adds(b, "&gt;"); break;
		case '"': soc_sbuf_adds(b, "&quot;"); break;
		case '\'': soc_sbuf_adds(b, "&#39;"); break;
		default:
			/* C0 controls are not allowed in XML 1.0 */
			if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n')
				soc_sbuf_adds(b, "?");
			else
				soc_sbuf_add(b, p, 1);
		}
	}
}

/* A mean duration in Vietnamese: "45 giây", "12 phút", "5 giờ", "3 ngày". */
static void
h_mean(char *buf, size_t len, double sum, uint64_t n)
{
	double s;

	if (n == 0) {
		snprintf(buf, len, "–");
		return;
	}
	s = sum / (double)n;
	if (s < 60)
		snprintf(buf, len, "%.0f giây", s);
	else if (s < 3600)
		snprintf(buf, len, "%.0f phút", s / 60);
	else if (s < 48 * 3600)
		snprintf(buf, len, "%.1f giờ", s / 3600);
	else
		snprintf(buf, len, "%.1f ngày", s / 86400);
}

static void
h_tile(struct soc_sbuf *b, const char *value, const char *label)
{
	soc_sbuf_adds(b, "<div class=\"tile\"><div class=\"v\">");
	h_esc(b, value);
	soc_sbuf_adds(b, "</div><div class=\"k\">");
	h_esc(b, label);
	soc_sbuf_adds(b, "</div></div>");
}

static void
h_tiles(struct soc_sbuf *b, const struct rep *r)
{
	char v[64];

	soc_sbuf_adds(b, "<div class=\"tiles\">");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)r->total.incidents);
	h_tile(b, v, "Tổng số sự cố");
	h_mean(v, sizeof(v), r->total.ack_sum, r->total.acked);
	h_tile(b, v, "Thời gian tiếp nhận trung bình");
	h_mean(v, sizeof(v), r->total.res_sum, r->total.resolved);
	h_tile(b, v, "Thời gian xử lý trung bình");
	if (r->deadlines)
		snprintf(v, sizeof(v), "%llu / %llu",
		    (unsigned long long)r->total.met,
		    (unsigned long long)r->total.missed);
	else
		snprintf(v, sizeof(v), "–");
	h_tile(b, v, "Báo cáo đúng hạn / trễ hạn");
	if (r->cov_total > 0)
		snprintf(v, sizeof(v), "%zu/%zu (%.0f%%)", r->cov_covered,
		    r->cov_total, 100.0 * (double)r->cov_covered /
		    (double)r->cov_total);
	else
		snprintf(v, sizeof(v), "–");
	h_tile(b, v, "Cơ quan bảo đảm đủ 4 lớp");
	soc_sbuf_adds(b, "</div>");
}

static void
h_svg_open(struct soc_sbuf *b, size_t rows, const char *label)
{
	soc_sbuf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\""
	    " width=\"%d\" height=\"%zu\" role=\"img\" aria-label=\"",
	    CHART_LABEL + CHART_BAR + 80, rows * CHART_ROW + 8);
	h_esc(b, label);
	soc_sbuf_adds(b, "\">");
}

/*
 * The row's label: the agency name, indented by its depth, cut to what
 * fits before the bars (SVG text does not wrap) with the whole name as
 * its tooltip.  The cut counts characters, not bytes, at about 7 px each.
 */
static void
h_svg_label(struct soc_sbuf *b, size_t row, int depth, const char *text)
{
	size_t room = (size_t)(CHART_LABEL - 12 - depth * 14) / 7, n = 0;
	const char *p;

	soc_sbuf_printf(b, "<text x=\"%d\" y=\"%zu\"><title>", 4 + depth * 14,
	    row * CHART_ROW + 18);
	h_esc(b, text);
	soc_sbuf_adds(b, "</title>");
	for (p = text; *p != '\0'; p++)
		if (((unsigned char)*p & 0xc0) != 0x80 && ++n > room)
			break;
	if (*p == '\0')
		h_esc(b, text);
	else {
		char *cut = strndup(text, (size_t)(p - text));

		if (cut == NULL)
			b->oom = 1;
		else {
			h_esc(b, cut);
			soc_sbuf_adds(b, "\xe2\x80\xa6");	/* … */
		}
		free(cut);
	}
	soc_sbuf_adds(b, "</text>");
}

/* Incidents per agency, stacked by severity (most severe first). */
static void
h_chart_severity(struct soc_sbuf *b, const struct rep *r)
{
	uint64_t max = 1;
	double x, w;
	size_t i;
	int s;

	for (i = 0; i < r->n; i++)
		if (r->a[i].f.incidents > max)
			max = r->a[i].f.incidents;
	soc_sbuf_adds(b, "<p class=\"legend\">");
	for (s = 4; s >= 0; s--)
		soc_sbuf_printf(b, "<span><i style=\"background:%s\"></i>%s</span>",
		    sev_color[s], sev_vi[s]);
	soc_sbuf_adds(b, "</p>");
	h_svg_open(b, r->n, "Sự cố theo cơ quan và mức độ");
	for (i = 0; i < r->n; i++) {
		h_svg_label(b, i, r->a[i].depth, r->a[i].name);
		x = CHART_LABEL;
		for (s = 4; s >= 0; s--) {
			if (r->a[i].f.sev[s] == 0)
				continue;
			w = (double)r->a[i].f.sev[s] * CHART_BAR / (double)max;
			soc_sbuf_printf(b, "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\""
			    " height=\"18\" fill=\"%s\"><title>%s: %llu</title>"
			    "</rect>", x, i * CHART_ROW + 4, w, sev_color[s],
			    sev_vi[s], (unsigned long long)r->a[i].f.sev[s]);
			x += w;
		}
		soc_sbuf_printf(b, "<text x=\"%.1f\" y=\"%zu\">%llu</text>", x + 6,
		    i * CHART_ROW + 18, (unsigned long long)r->a[i].f.incidents);
	}
	soc_sbuf_adds(b, "</svg>");
}

/* Share of each agency's subtree fully covered, 0-100%. */
static void
h_chart_coverage(struct soc_sbuf *b, const struct rep *r)
{
	double share, w;
	size_t i;

	h_svg_open(b, r->n, "Tỷ lệ cơ quan bảo đảm đủ 4 lớp");
	for (i = 0; i < r->n; i++) {
		share = r->a[i].cov_total ? (double)r->a[i].cov_covered /
		    (double)r->a[i].cov_total : 0.0;
		w = share * CHART_BAR;
		h_svg_label(b, i, r->a[i].depth, r->a[i].name);
		soc_sbuf_printf(b, "<rect x=\"%d\" y=\"%zu\" width=\"%d\""
		    " height=\"18\" fill=\"#e5e7eb\"/>", CHART_LABEL,
		    i * CHART_ROW + 4, CHART_BAR);
		soc_sbuf_printf(b, "<rect x=\"%d\" y=\"%zu\" width=\"%.1f\""
		    " height=\"18\" fill=\"%s\"/>", CHART_LABEL, i * CHART_ROW + 4,
		    w, share >= 1.0 ? "#16a34a" : "#f59e0b");
		soc_sbuf_printf(b, "<text x=\"%d\" y=\"%zu\">%zu/%zu</text>",
		    CHART_LABEL + CHART_BAR + 6, i * CHART_ROW + 18,
		    r->a[i].cov_covered, r->a[i].cov_total);
	}
	soc_sbuf_adds(b, "</svg>");
}

/*
 * A national database: each province's share of agencies with all four
 * layers, as its last coverage record gave it (the figure the plan asks
 * for, 100%), a bar each with the 100% line, then the same as a table
 * whose rows carry the exact share (data-share, as --json has it).
 */
static void
h_provinces(struct soc_sbuf *b, const struct rep *r)
{
	char t[48];
	double share;
	size_t k;

	soc_sbuf_adds(b, "<h2>Tỷ lệ cơ quan bảo đảm đủ 4 lớp theo tỉnh</h2>");
	h_svg_open(b, r->nprov, "Tỷ lệ cơ quan bảo đảm đủ 4 lớp theo tỉnh");
	for (k = 0; k < r->nprov; k++) {
		share = r->prov[k].total ? (double)r->prov[k].covered /
		    (double)r->prov[k].total : 0.0;
		h_svg_label(b, k, 0, r->prov[k].name);
		soc_sbuf_printf(b, "<rect x=\"%d\" y=\"%zu\" width=\"%d\""
		    " height=\"18\" fill=\"#e5e7eb\"/>", CHART_LABEL,
		    k * CHART_ROW + 4, CHART_BAR);
		soc_sbuf_printf(b, "<rect x=\"%d\" y=\"%zu\" width=\"%.1f\""
		    " height=\"18\" fill=\"%s\"/>", CHART_LABEL,
		    k * CHART_ROW + 4, share * CHART_BAR, share >= 1.0 ?
		    "#16a34a" : "#f59e0b");
		soc_sbuf_printf(b, "<text x=\"%d\" y=\"%zu\">%zu/%zu</text>",
		    CHART_LABEL + CHART_BAR + 6, k * CHART_ROW + 18,
		    r->prov[k].covered, r->prov[k].total);
	}
	soc_sbuf_printf(b, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%zu\""
	    " stroke=\"#dc2626\" stroke-dasharray=\"4 3\"><title>100%%"
	    "</title></line></svg>", CHART_LABEL + CHART_BAR,
	    CHART_LABEL + CHART_BAR, r->nprov * CHART_ROW + 8);
	soc_sbuf_adds(b, "<table id=\"provinces\"><thead><tr><th>Tỉnh</th>"
	    "<th>Đủ 4 lớp</th><th>Tổng số cơ quan</th><th>Tỷ lệ</th>"
	    "<th>Báo cáo lúc</th></tr></thead><tbody>");
	for (k = 0; k < r->nprov; k++) {
		soc_sbuf_adds(b, "<tr data-province=\"");
		h_esc(b, r->prov[k].name);
		if (r->prov[k].total > 0)
			soc_sbuf_printf(b, "\" data-share=\"%.4f",
			    (double)r->prov[k].covered /
			    (double)r->prov[k].total);
		soc_sbuf_adds(b, "\"><td>");
		h_esc(b, r->prov[k].name);
		soc_sbuf_printf(b, "</td><td>%zu</td><td>%zu</td>",
		    r->prov[k].covered, r->prov[k].total);
		if (r->prov[k].total > 0)
			soc_sbuf_printf(b, "<td>%.0f%%</td>", 100.0 *
			    (double)r->prov[k].covered /
			    (double)r->prov[k].total);
		else
			soc_sbuf_adds(b, "<td>–</td>");
		time_human(r->c, r->prov[k].reported_at, t, sizeof(t));
		soc_sbuf_adds(b, "<td>");
		h_esc(b, t);
		soc_sbuf_adds(b, "</td></tr>");
	}
	soc_sbuf_adds(b, "</tbody></table>");
}

/*
 * Computers per agency (issue 18): the share of its declared computers
 * reporting (blue) and protected (green), each a half-height bar, with
 * the plan's 100% line drawn; agencies that declare none are left out.
 */
static void
h_chart_computers(struct soc_sbuf *b, const struct rep *r)
{
	double rep, prot;
	size_t i, row = 0, rows = 0;

	for (i = 0; i < r->n; i++)
		rows += r->a[i].ep_declared > 0;
	if (rows == 0) {
		soc_sbuf_adds(b, "<p>Chưa cơ quan nào khai báo số máy tính"
		    " (socctl agency set CODE --computers N).</p>");
		return;
	}
	soc_sbuf_adds(b, "<p class=\"legend\"><span><i style=\"background:"
	    "#2563eb\"></i>gửi dữ liệu</span><span><i style=\"background:"
	    "#16a34a\"></i>được bảo vệ</span></p>");
	h_svg_open(b, rows, "Máy tính gửi dữ liệu và được bảo vệ");
	for (i = 0; i < r->n; i++) {
		if (r->a[i].ep_declared <= 0)
			continue;
		rep = (double)r->a[i].ep_reporting / (double)r->a[i].ep_declared;
		prot = (double)r->a[i].ep_protected /
		    (double)r->a[i].ep_declared;
		rep = rep > 1 ? 1 : rep;
		prot = prot > 1 ? 1 : prot;
		h_svg_label(b, row, r->a[i].depth, r->a[i].name);
		soc_sbuf_printf(b, "<rect x=\"%d\" y=\"%zu\" width=\"%.1f\""
		    " height=\"9\" fill=\"#2563eb\"><title>%llu/%lld</title>"
		    "</rect>", CHART_LABEL, row * CHART_ROW + 4, rep * CHART_BAR,
		    (unsigned long long)r->a[i].ep_reporting,
		    (long long)r->a[i].ep_declared);
		soc_sbuf_printf(b, "<rect x=\"%d\" y=\"%zu\" width=\"%.1f\""
		    " height=\"9\" fill=\"#16a34a\"><title>%llu/%lld</title>"
		    "</rect>", CHART_LABEL, row * CHART_ROW + 13,
		    prot * CHART_BAR, (unsigned long long)r->a[i].ep_protected,
		    (long long)r->a[i].ep_declared);
		soc_sbuf_printf(b, "<text x=\"%d\" y=\"%zu\">%.0f%% / %.0f%%"
		    "</text>", CHART_LABEL + CHART_BAR + 6, row * CHART_ROW + 18,
		    100 * rep, 100 * prot);
		row++;
	}
	/* the plan's target: every computer */
	soc_sbuf_printf(b, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%zu\""
	    " stroke=\"#dc2626\" stroke-dasharray=\"4 3\"><title>100%%"
	    "</title></line>", CHART_LABEL + CHART_BAR, CHART_LABEL + CHART_BAR,
	    rows * CHART_ROW + 8);
	soc_sbuf_adds(b, "</svg>");
}

static void
h_chart_categories(struct soc_sbuf *b, const struct rep *r)
{
	uint64_t max = 1;
	size_t k;

	if (r->ncats == 0) {
		soc_sbuf_adds(b, "<p>Không có sự cố trong kỳ.</p>");
		return;
	}
	for (k = 0; k < r->ncats; k++)
		if (r->cats[k].f.incidents > max)
			max = r->cats[k].f.incidents;
	h_svg_open(b, r->ncats, "Sự cố theo loại");
	for (k = 0; k < r->ncats; k++) {
		h_svg_label(b, k, 0, r->cats[k].name ? r->cats[k].name :
		    "(chưa phân loại)");
		soc_sbuf_printf(b, "<rect x=\"%d\" y=\"%zu\" width=\"%.1f\""
		    " height=\"18\" fill=\"#2563eb\"/><text x=\"%.1f\" y=\"%zu\">"
		    "%llu</text>", CHART_LABEL, k * CHART_ROW + 4,
		    (double)r->cats[k].f.incidents * CHART_BAR / (double)max,
		    CHART_LABEL + (double)r->cats[k].f.incidents * CHART_BAR /
		    (double)max + 6, k * CHART_ROW + 18,
		    (unsigned long long)r->cats[k].f.incidents);
	}
	soc_sbuf_adds(b, "</svg>");
}

/* One table row: a name cell then the figures. */
static void
h_row(struct soc_sbuf *b, const struct rep *r, const char *code,
    const char *name, int depth, const struct rep_fig *f, size_t covered,
    size_t total)
{
	char m[48];
	int s;

	soc_sbuf_adds(b, "<tr");
	if (code != NULL) {
		soc_sbuf_adds(b, " data-agency=\"");
		h_esc(b, code);
		soc_sbuf_adds(b, "\"");
	}
	soc_sbuf_printf(b, "><td style=\"padding-left:%dpx\">", 6 + depth * 16);
	h_esc(b, name);
	soc_sbuf_printf(b, "</td><td>%llu</td>", (unsigned long long)f->incidents);
	for (s = 4; s >= 0; s--)
		soc_sbuf_printf(b, "<td>%llu</td>", (unsigned long long)f->sev[s]);
	h_mean(m, sizeof(m), f->ack_sum, f->acked);
	soc_sbuf_adds(b, "<td>");
	h_esc(b, m);
	h_mean(m, sizeof(m), f->res_sum, f->resolved);
	soc_sbuf_adds(b, "</td><td>");
	h_esc(b, m);
	soc_sbuf_adds(b, "</td>");
	if (r->deadlines)
		soc_sbuf_printf(b, "<td>%llu</td><td>%llu</td>",
		    (unsigned long long)f->met, (unsigned long long)f->missed);
	else
		soc_sbuf_adds(b, "<td>–</td><td>–</td>");
	if (total > 0)
		soc_sbuf_printf(b, "<td>%zu/%zu</td>", covered, total);
	else
		soc_sbuf_adds(b, "<td></td>");
	soc_sbuf_adds(b, "</tr>");
}

static void
h_table(struct soc_sbuf *b, const struct rep *r)
{
	static const char head[] = "<tr><th>%s</th><th>Tổng</th>"
	    "<th>Nghiêm trọng</th><th>Cao</th><th>Trung bình</th><th>Thấp</th>"
	    "<th>Thông tin</th><th>Tiếp nhận TB</th><th>Xử lý TB</th>"
	    "<th>Đúng hạn</th><th>Trễ hạn</th><th>Đủ 4 lớp</th></tr>";
	size_t i, k;

	soc_sbuf_adds(b, "<table id=\"agencies\"><thead>");
	soc_sbuf_printf(b, head, "Cơ quan");
	soc_sbuf_adds(b, "</thead><tbody>");
	for (i = 0; i < r->n; i++)
		h_row(b, r, r->a[i].code, r->a[i].name, r->a[i].depth,
		    &r->a[i].f, r->a[i].cov_covered, r->a[i].cov_total);
	soc_sbuf_adds(b, "</tbody></table><h2>Theo loại sự cố</h2>"
	    "<table id=\"categories\"><thead>");
	soc_sbuf_printf(b, head, "Loại");
	soc_sbuf_adds(b, "</thead><tbody>");
	for (k = 0; k < r->ncats; k++)
		h_row(b, r, NULL, r->cats[k].name ? r->cats[k].name :
		    "(chưa phân loại)", 0, &r->cats[k].f, 0, 0);
	h_row(b, r, NULL, "Tổng cộng", 0, &r->total, r->cov_covered,
	    r->cov_total);
	soc_sbuf_adds(b, "</tbody></table>");
}

static void
h_page(struct soc_sbuf *b, const struct rep *r)
{
	char t1[48], t2[48], now[48];
	const char *scope = "Tất cả cơ quan";
	size_t i;

	for (i = 0; r->scope != NULL && i < r->n; i++)
		if (strcmp(r->a[i].code, r->scope) == 0)
			scope = r->a[i].name;
	time_human(r->c, r->since, t1, sizeof(t1));
	time_human(r->c, r->until, t2, sizeof(t2));
	time_human(r->c, r->c->now, now, sizeof(now));
	soc_sbuf_adds(b, "<!DOCTYPE html>\n<html lang=\"vi\""
	    " xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/>"
	    "<meta name=\"viewport\" content=\"width=device-width\"/>"
	    "<title>Báo cáo sự cố an toàn thông tin – ");
	h_esc(b, scope);
	soc_sbuf_adds(b, "</title><style>");
	soc_sbuf_adds(b, css);
	soc_sbuf_adds(b, "</style></head><body><h1>Báo cáo sự cố an toàn"
	    " thông tin mạng</h1><p class=\"meta\">Phạm vi: <b>");
	h_esc(b, scope);
	soc_sbuf_adds(b, "</b></p><p class=\"meta\">Kỳ báo cáo: ");
	h_esc(b, t1);
	soc_sbuf_adds(b, " – ");
	h_esc(b, t2);
	soc_sbuf_adds(b, " (");
	h_esc(b, r->c->tz);
	soc_sbuf_adds(b, ")</p>");
	h_tiles(b, r);
	soc_sbuf_adds(b, "<h2>Sự cố theo cơ quan và mức độ</h2>");
	h_chart_severity(b, r);
	soc_sbuf_adds(b, "<h2>Tỷ lệ cơ quan bảo đảm đủ 4 lớp</h2>");
	h_chart_coverage(b, r);
	if (r->nprov > 0)
		h_provinces(b, r);
	soc_sbuf_adds(b, "<h2>Máy tính gửi dữ liệu và được bảo vệ</h2>");
	h_chart_computers(b, r);
	soc_sbuf_adds(b, "<h2>Sự cố theo loại</h2>");
	h_chart_categories(b, r);
	soc_sbuf_adds(b, "<h2>Chi tiết theo cơ quan</h2>");
	h_table(b, r);
	soc_sbuf_adds(b, "<footer>Số liệu của mỗi cơ quan gồm cả các đơn vị"
	    " trực thuộc. Thời gian tiếp nhận và xử lý tính từ lúc sự cố được"
	    " ghi nhận, theo nhật ký kiểm toán.");
	if (!r->deadlines)
		soc_sbuf_adds(b, " Cơ sở dữ liệu chưa theo dõi thời hạn báo cáo.");
	soc_sbuf_adds(b, " Lập bởi socctl lúc ");
	h_esc(b, now);
	soc_sbuf_adds(b, ".</footer></body></html>\n");
}

int
report_html(const struct rep *r, const char *path)
{
	struct soc_sbuf b;
	char tmp[4096];
	FILE *f = NULL;
	int ok, ret = 1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return errx1("report: %s: path too long", path);
	soc_sbuf_init(&b);
	h_page(&b, r);
	if (b.oom) {
		errx1("report: out of memory building the page");
		goto done;
	}
	if ((f = fopen(tmp, "w")) == NULL) {
		errx1("report: %s: %s", tmp, strerror(errno));
		goto done;
	}
	ok = fwrite(b.data, 1, b.len, f) == b.len;
	if (fclose(f) != 0 || !ok) {
		f = NULL;
		errx1("report: %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto done;
	}
	f = NULL;
	if (rename(tmp, path) == -1) {
		errx1("report: %s: %s", path, strerror(errno));
		unlink(tmp);
		goto done;
	}
	printf("report written to %s\n", path);
	ret = 0;
done:
	if (f != NULL)
		fclose(f);
	soc_sbuf_free(&b);
	return ret;
}
