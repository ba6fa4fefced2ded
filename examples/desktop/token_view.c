/* The output view: generated tokens coloured by probability, and a tooltip with the
 * alternatives the model considered for the token under the pointer. */
#include "app.h"

#include <math.h>

/* Ten probability bands, red (unsure) to green (certain), as the web visualizer does. */
static void make_tags(App *app) {
  GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(app->output_view));
  for (int i = 0; i < 10; ++i) {
    char name[16], colour[32];
    double p = (i + 0.5) / 10.0;
    /* hue 0 (red) .. 120 (green), light enough to read dark text on */
    GdkRGBA rgba;
    double h = 120.0 * p / 60.0, s = 0.75, l = 0.78;
    double c = (1 - fabs(2 * l - 1)) * s, x = c * (1 - fabs(fmod(h, 2) - 1)), m = l - c / 2;
    double r = h < 1 ? c : x, g = h < 1 ? x : c;
    rgba.red = (float)(r + m);
    rgba.green = (float)(g + m);
    rgba.blue = (float)m;
    rgba.alpha = 1;
    snprintf(name, sizeof name, "p%d", i);
    char *spec = gdk_rgba_to_string(&rgba);
    g_strlcpy(colour, spec, sizeof colour);
    g_free(spec);
    app->prob_tags[i] = gtk_text_buffer_create_tag(buf, name, "background", colour, NULL);
  }
  app->prompt_tag = gtk_text_buffer_create_tag(buf, "prompt", "foreground", "#65707c", NULL);
  app->user_tag = gtk_text_buffer_create_tag(buf, "user", "foreground", "#1c232b", "weight", 600, NULL);
  app->role_tag = gtk_text_buffer_create_tag(buf, "role", "foreground", "#2f63d8", "weight", 700, NULL);
}

static int token_at_offset(const App *app, int offset) {
  int lo = 0, hi = (int)app->tokens->len - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    const TokenRec *r = &g_array_index(app->tokens, TokenRec, mid);
    if (offset < r->start) hi = mid - 1;
    else if (offset >= r->end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

static void append_alt_lines(GString *s, const Alt *alts, int n, int32_t chosen) {
  for (int i = 0; i < n; ++i) {
    char *esc = g_markup_escape_text(alts[i].text ? alts[i].text : "", -1);
    int bar = (int)lroundf(alts[i].prob * 20);
    GString *bars = g_string_new(NULL);
    for (int b = 0; b < bar; ++b) g_string_append(bars, "\u2588");
    g_string_append_printf(s, "\n%s<tt>%-12s %6.2f%% %s</tt>%s", alts[i].token == chosen ? "<b>" : "", esc,
                           alts[i].prob * 100, bars->str, alts[i].token == chosen ? " \u25c0</b>" : "");
    g_string_free(bars, TRUE);
    g_free(esc);
  }
}

/* The tooltip of token i (Pango markup): what hovering it shows. */
char *token_view_describe(const App *app, int i) {
  const TokenRec *r = &g_array_index(app->tokens, TokenRec, i);
  GString *s = g_string_new(NULL);
  const char *piece = "";
  for (int k = 0; k < r->n_raw; ++k)
    if (r->raw[k].token == r->token) piece = r->raw[k].text;
  for (int k = 0; k < r->n_alts; ++k)
    if (r->alts[k].token == r->token) piece = r->alts[k].text;
  char *esc = g_markup_escape_text(piece, -1);
  g_string_append_printf(s, "<b>'%s'</b> token %d, step %d\nprobability %.2f%% (model's own %.2f%%)\n"
                         "entropy %.2f nats, %.2f ms",
                         esc, r->token, i, r->prob * 100, r->raw_prob * 100, r->entropy, r->ms);
  g_free(esc);
  g_string_append(s, "\n\n<b>after the sampler's filters</b>");
  append_alt_lines(s, r->alts, r->n_alts, r->token);
  g_string_append(s, "\n\n<b>the model's own distribution</b>");
  append_alt_lines(s, r->raw, r->n_raw, r->token);
  return g_string_free(s, FALSE);
}

static gboolean on_query_tooltip(GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                                 gpointer data) {
  App *app = data;
  GtkTextView *tv = GTK_TEXT_VIEW(widget);
  GtkTextIter iter;
  int bx, by;
  if (keyboard) return FALSE;
  gtk_text_view_window_to_buffer_coords(tv, GTK_TEXT_WINDOW_WIDGET, x, y, &bx, &by);
  if (!gtk_text_view_get_iter_at_location(tv, &iter, bx, by)) return FALSE;
  int i = token_at_offset(app, gtk_text_iter_get_offset(&iter));
  if (i < 0) return FALSE;
  char *markup = token_view_describe(app, i);
  gtk_tooltip_set_markup(tooltip, markup);
  g_free(markup);
  return TRUE;
}

void token_view_setup(App *app) {
  make_tags(app);
  gtk_widget_set_has_tooltip(app->output_view, TRUE);
  g_signal_connect(app->output_view, "query-tooltip", G_CALLBACK(on_query_tooltip), app);
}

void token_view_append(App *app, const char *text, int len, GtkTextTag *tag) {
  GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(app->output_view));
  GtkTextIter end;
  gtk_text_buffer_get_end_iter(buf, &end);
  gtk_text_buffer_insert_with_tags(buf, &end, text, len, tag, NULL);
}

/* Appends a step's text coloured by its probability and keeps its record for the tooltip.
 * The record's strings move into app->tokens. */
void token_view_append_token(App *app, const Msg *msg) {
  GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(app->output_view));
  GtkTextIter end;
  TokenRec rec = msg->rec;
  gtk_text_buffer_get_end_iter(buf, &end);
  rec.start = gtk_text_iter_get_offset(&end);
  int band = (int)(rec.prob * 10);
  band = band < 0 ? 0 : band > 9 ? 9 : band;
  gtk_text_buffer_insert_with_tags(buf, &end, msg->text, -1, app->prob_tags[band], NULL);
  rec.end = gtk_text_iter_get_offset(&end);
  g_array_append_val(app->tokens, rec);
}

void token_rec_free_strings(TokenRec *rec) {
  for (int i = 0; i < rec->n_alts; ++i) g_free(rec->alts[i].text);
  for (int i = 0; i < rec->n_raw; ++i) g_free(rec->raw[i].text);
  rec->n_alts = rec->n_raw = 0;
}

void token_view_clear(App *app) {
  for (guint i = 0; i < app->tokens->len; ++i) token_rec_free_strings(&g_array_index(app->tokens, TokenRec, i));
  g_array_set_size(app->tokens, 0);
  gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(app->output_view)), "", 0);
}
