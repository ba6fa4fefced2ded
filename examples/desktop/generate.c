/* Generation: the settings become a generator, the prompt (or the conversation) runs on
 * a worker thread, and its steps reach the UI thread through the Channel. */
#include "app.h"

#include <string.h>

typedef struct Job {
  App *app;
  ink_generator *gen;
  char *text;     /* completion mode: the prompt */
  int32_t *ids;   /* chat mode: the conversation's tokens */
  size_t n_ids;
} Job;

static const char *const kTemplates[] = {NULL, "chatml", "llama2", "llama3", "mistral", "phi3", "gemma", "zephyr"};

static const char *chosen_template(const App *app) {
  guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(app->template_drop));
  return i < G_N_ELEMENTS(kTemplates) ? kTemplates[i] : NULL;
}

static gboolean chat_mode(const App *app) { return gtk_drop_down_get_selected(GTK_DROP_DOWN(app->mode_drop)) == 1; }

/* ---- the worker thread ---------------------------------------------------------------- */

static void post(Channel *chan, Msg *msg);

static Msg *step_msg(const ink_step *s) {
  Msg *m = g_new0(Msg, 1);
  m->text = g_strndup(s->text, s->text_len);
  m->rec.token = s->token;
  m->rec.prob = s->prob;
  m->rec.raw_prob = s->raw_prob;
  m->rec.entropy = s->entropy;
  m->rec.ms = s->ms_since_prev;
  m->rec.n_alts = s->n_alternatives;
  m->rec.n_raw = s->n_raw_alternatives;
  for (int i = 0; i < s->n_alternatives; ++i) {
    m->rec.alts[i].token = s->alternatives[i].token;
    m->rec.alts[i].prob = s->alternatives[i].prob;
    m->rec.alts[i].text = g_strndup(s->alternatives[i].text, s->alternatives[i].text_len);
  }
  for (int i = 0; i < s->n_raw_alternatives; ++i) {
    m->rec.raw[i].token = s->raw_alternatives[i].token;
    m->rec.raw[i].prob = s->raw_alternatives[i].prob;
    m->rec.raw[i].text = g_strndup(s->raw_alternatives[i].text, s->raw_alternatives[i].text_len);
  }
  return m;
}

static Msg *end_msg(ink_generator *gen, ink_status st) {
  Msg *m = g_new0(Msg, 1);
  size_t len = 0;
  m->done = TRUE;
  m->status = st;
  if (st != INK_OK) m->error = g_strdup(ink_last_error()); /* this thread's message */
  m->stop_reason = ink_generator_stop_reason(gen);
  m->metrics.struct_size = sizeof m->metrics;
  ink_generator_metrics(gen, &m->metrics);
  ink_generator_text(gen, NULL, 0, &len);
  m->reply = g_malloc(len + 1);
  ink_generator_text(gen, m->reply, len + 1, &len);
  m->reply[len] = '\0';
  return m;
}

static gpointer worker_main(gpointer data) {
  Job *job = data;
  ink_status st = job->ids ? ink_generator_prompt_tokens(job->gen, job->ids, job->n_ids)
                           : ink_generator_prompt(job->gen, job->text, strlen(job->text));
  /* Stop pressed before the prompt started: the library's cancel flag is reset by a new
   * prompt, so pass it on now that the run exists. */
  if (st == INK_OK && g_atomic_int_get(&job->app->stop_pressed)) ink_generator_cancel(job->gen);
  while (st == INK_OK) {
    ink_step step;
    memset(&step, 0, sizeof step);
    step.struct_size = sizeof step;
    st = ink_generator_step(job->gen, &step);
    if (st != INK_OK || step.done) break;
    post(&job->app->chan, step_msg(&step));
  }
  post(&job->app->chan, end_msg(job->gen, st));
  g_free(job->text);
  g_free(job->ids);
  g_free(job);
  return NULL;
}

/* ---- the channel --------------------------------------------------------------------- */

static void msg_free(Msg *m) {
  token_rec_free_strings(&m->rec);
  g_free(m->text);
  g_free(m->error);
  g_free(m->reply);
  g_free(m);
}

static void show_live_metrics(App *app) {
  double secs = (g_get_monotonic_time() - app->t_first_us) / 1e6;
  char *s = g_strdup_printf("first token after %.1f ms \u00b7 %d tokens \u00b7 %.1f tokens/s (running)",
                            (app->t_first_us - app->t_send_us) / 1000.0, app->n_received,
                            secs > 0 ? (app->n_received - 1) / secs : 0.0);
  gtk_label_set_text(GTK_LABEL(app->metrics_label), s);
  g_free(s);
}

static void show_final_metrics(App *app, const Msg *end) {
  const ink_metrics *m = &end->metrics;
  char *s = g_strdup_printf("first token after %.1f ms \u00b7 %d tokens \u00b7 %.1f tokens/s \u00b7 prompt %d tokens "
                            "(%d reused) at %.0f tokens/s \u00b7 memory: model %.1f MB, KV cache %.1f MB, peak RSS %.1f MB",
                            m->ttft_ms, m->gen_tokens, m->gen_tps, m->prompt_tokens, m->cached_prompt_tokens,
                            m->prompt_tps, m->model_bytes / 1e6, m->kv_bytes / 1e6, m->peak_rss / 1e6);
  gtk_label_set_text(GTK_LABEL(app->metrics_label), s);
  g_free(s);
}

static const char *stop_text(ink_stop_reason r) {
  switch (r) {
    case INK_STOP_MAX_TOKENS: return "reached the token limit";
    case INK_STOP_END_OF_SEQUENCE: return "the model ended the text";
    case INK_STOP_STOP_STRING: return "stop string";
    case INK_STOP_STOP_TOKEN: return "end of turn";
    case INK_STOP_CONTEXT_FULL: return "the context is full";
    case INK_STOP_CANCELLED: return "stopped";
    default: return "ended";
  }
}

static void finish(App *app, Msg *end) {
  g_thread_join(app->worker);
  app->worker = NULL;
  if (end->status != INK_OK) {
    char *s = g_strdup_printf("Generation failed: %s (%s)", end->error, ink_status_name(end->status));
    app_set_status(app, s, TRUE);
    g_free(s);
  } else {
    char *s = g_strdup_printf("Done: %s.", stop_text(end->stop_reason));
    app_set_status(app, s, FALSE);
    g_free(s);
    show_final_metrics(app, end);
    if (app->gen_chat) { /* chat: the reply becomes the assistant's turn */
      g_ptr_array_add(app->chat_roles, g_strdup("assistant"));
      g_ptr_array_add(app->chat_texts, g_strdup(end->reply));
    }
  }
  app_update_sensitivity(app);
  script_generation_done(app, end);
}

static gboolean drain(gpointer data) {
  Channel *chan = data;
  App *app = chan->app;
  g_mutex_lock(&chan->lock);
  GPtrArray *msgs = chan->pending;
  chan->pending = g_ptr_array_new();
  chan->idle_id = 0;
  g_mutex_unlock(&chan->lock);
  for (guint i = 0; i < msgs->len; ++i) {
    Msg *m = g_ptr_array_index(msgs, i);
    if (m->done) {
      finish(app, m);
    } else {
      if (app->n_received++ == 0) {
        app->t_first_us = g_get_monotonic_time();
        script_first_token(app);
      }
      token_view_append_token(app, m);
      m->rec.n_alts = m->rec.n_raw = 0; /* the strings now belong to app->tokens */
    }
    msg_free(m);
  }
  if (app->worker) show_live_metrics(app);
  g_ptr_array_free(msgs, TRUE);
  /* keep the newest text in sight */
  GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(app->output_view));
  gtk_text_view_scroll_to_mark(GTK_TEXT_VIEW(app->output_view), gtk_text_buffer_get_insert(buf), 0, FALSE, 0, 1);
  return G_SOURCE_REMOVE;
}

static void post(Channel *chan, Msg *msg) {
  g_mutex_lock(&chan->lock);
  g_ptr_array_add(chan->pending, msg);
  if (chan->idle_id == 0) chan->idle_id = g_idle_add(drain, chan);
  g_mutex_unlock(&chan->lock);
}

/* ---- the UI side ------------------------------------------------------------------------ */

/* The generator for the current settings: reused while they are unchanged (so a chat keeps
 * its earlier turns in the KV cache), recreated when a slider moved. */
static ink_status ensure_generator(App *app, gboolean chat, const char *tmpl) {
  ink_generator_params p = ink_generator_params_default();
  p.temperature = (float)gtk_range_get_value(GTK_RANGE(app->temp_scale));
  p.top_p = (float)gtk_range_get_value(GTK_RANGE(app->top_p_scale));
  p.top_k = (int32_t)gtk_range_get_value(GTK_RANGE(app->top_k_scale));
  p.max_new_tokens = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(app->max_spin));
  p.n_ctx = app->opt.ctx > 0 ? app->opt.ctx : 0;
  if (app->opt.rope_scale > 1) p.rope_scale = (float)app->opt.rope_scale;
  p.top_n_alternatives = 8;
  if (app->gen && p.temperature == app->gen_key.temperature && p.top_p == app->gen_key.top_p &&
      p.top_k == app->gen_key.top_k && p.max_new_tokens == app->gen_key.max_new_tokens &&
      chat == app->gen_chat && g_strcmp0(tmpl, app->gen_template) == 0)
    return INK_OK;
  ink_generator_free(app->gen);
  app->gen = NULL;
  char strings[1024];
  const char *stops[16];
  int32_t stop_ids[16];
  size_t len = 0, count = 0, n_ids = 0;
  if (chat) { /* the turn ends at the template's end-of-turn markers */
    ink_status st = ink_chat_stop_strings(app->model, tmpl, strings, sizeof strings, &len, &count);
    if (st != INK_OK) return st;
    const char *s = strings;
    for (size_t i = 0; i < count && i < G_N_ELEMENTS(stops); ++i, s += strlen(s) + 1) stops[i] = s;
    p.stop_strings = stops;
    p.n_stop_strings = count < G_N_ELEMENTS(stops) ? count : G_N_ELEMENTS(stops);
    st = ink_chat_stop_tokens(app->model, tmpl, stop_ids, G_N_ELEMENTS(stop_ids), &n_ids);
    if (st != INK_OK) return st;
    p.stop_tokens = stop_ids;
    p.n_stop_tokens = n_ids;
  }
  ink_status st = ink_generator_create(app->model, &p, &app->gen);
  if (st != INK_OK) return st;
  app->gen_key = p;
  app->gen_chat = chat;
  g_free(app->gen_template);
  app->gen_template = g_strdup(tmpl);
  return INK_OK;
}

/* The conversation with the new user message, as the template's tokens. */
static ink_status chat_ids(App *app, const char *tmpl, int32_t **ids, size_t *n) {
  guint count = app->chat_roles->len;
  ink_chat_message *msgs = g_new0(ink_chat_message, count);
  for (guint i = 0; i < count; ++i) {
    msgs[i].role = g_ptr_array_index(app->chat_roles, i);
    msgs[i].content = g_ptr_array_index(app->chat_texts, i);
    msgs[i].content_len = strlen(msgs[i].content);
  }
  ink_status st = ink_chat_tokenize(app->model, tmpl, msgs, count, 1, NULL, 0, n);
  if (st == INK_OK || st == INK_ERR_BUFFER_TOO_SMALL) {
    *ids = g_new(int32_t, *n + 1);
    st = ink_chat_tokenize(app->model, tmpl, msgs, count, 1, *ids, *n, n);
  }
  g_free(msgs);
  return st;
}

static void fail(App *app, const char *what, ink_status st) {
  char *s = g_strdup_printf("%s: %s (%s)", what, ink_last_error(), ink_status_name(st));
  app_set_status(app, s, TRUE);
  g_free(s);
}

gboolean app_send(App *app) {
  if (!app->model || app->worker) return FALSE;
  GtkTextBuffer *pb = gtk_text_view_get_buffer(GTK_TEXT_VIEW(app->prompt_view));
  GtkTextIter a, b;
  gtk_text_buffer_get_bounds(pb, &a, &b);
  char *text = gtk_text_buffer_get_text(pb, &a, &b, FALSE);
  gboolean chat = chat_mode(app);
  const char *tmpl = chosen_template(app);
  ink_status st = ensure_generator(app, chat, tmpl);
  if (st != INK_OK) {
    fail(app, "Cannot create a generator", st);
    g_free(text);
    return FALSE;
  }
  Job *job = g_new0(Job, 1);
  job->app = app;
  job->gen = app->gen;
  if (chat) {
    g_ptr_array_add(app->chat_roles, g_strdup("user"));
    g_ptr_array_add(app->chat_texts, g_strdup(text));
    st = chat_ids(app, tmpl, &job->ids, &job->n_ids);
    if (st != INK_OK) {
      fail(app, "Cannot apply the chat template", st);
      g_ptr_array_set_size(app->chat_roles, app->chat_roles->len - 1);
      g_ptr_array_set_size(app->chat_texts, app->chat_texts->len - 1);
      g_free(job);
      g_free(text);
      return FALSE;
    }
    token_view_append(app, app->tokens->len || app->chat_roles->len > 1 ? "\n\nYou: " : "You: ", -1, app->role_tag);
    token_view_append(app, text, -1, app->user_tag);
    token_view_append(app, "\nModel: ", -1, app->role_tag);
    gtk_text_buffer_set_text(pb, "", 0);
    g_free(text);
  } else {
    token_view_clear(app);
    token_view_append(app, text, -1, app->prompt_tag);
    job->text = text;
  }
  g_atomic_int_set(&app->stop_pressed, 0);
  app->n_received = 0;
  app->t_send_us = g_get_monotonic_time();
  app_set_status(app, "Generating\u2026", FALSE);
  app->worker = g_thread_new("inkling-generate", worker_main, job);
  app_update_sensitivity(app);
  return TRUE;
}

/* Stop: the library's cancel, from the UI thread; the run ends at its next step. */
void app_stop(App *app) {
  if (!app->worker) return;
  g_atomic_int_set(&app->stop_pressed, 1);
  ink_generator_cancel(app->gen);
  app_set_status(app, "Stopping\u2026", FALSE);
}

void app_clear(App *app) {
  if (app->worker) return;
  token_view_clear(app);
  g_ptr_array_set_size(app->chat_roles, 0);
  g_ptr_array_set_size(app->chat_texts, 0);
  if (app->gen) ink_generator_reset(app->gen);
  gtk_label_set_text(GTK_LABEL(app->metrics_label), "");
  app_set_status(app, "Cleared: the next message starts a new conversation.", FALSE);
}

gboolean app_running(const App *app) { return app->worker != NULL; }

/* Shutdown: ends a running generation and drops what it left in the queue. */
void app_join_worker(App *app) {
  if (app->worker) {
    ink_generator_cancel(app->gen);
    g_thread_join(app->worker);
    app->worker = NULL;
  }
  g_mutex_lock(&app->chan.lock);
  if (app->chan.idle_id) g_source_remove(app->chan.idle_id);
  app->chan.idle_id = 0;
  for (guint i = 0; i < app->chan.pending->len; ++i) msg_free(g_ptr_array_index(app->chan.pending, i));
  g_ptr_array_set_size(app->chan.pending, 0);
  g_mutex_unlock(&app->chan.lock);
}
