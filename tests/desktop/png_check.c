/* Checks a screenshot of inkling-desktop: its size, that it is not blank, and that it
 * shows what the test expects. Usage: png_check FILE MIN_WIDTH MIN_HEIGHT tokens|error
 *   tokens: probability-coloured token backgrounds (red..green) over dark text
 *   error:  the status line's red error text
 * Prints what it counted; exit status 0 when the screenshot passes. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s FILE MIN_WIDTH MIN_HEIGHT tokens|error\n", argv[0]);
    return 2;
  }
  GError *err = NULL;
  GdkPixbuf *pb = gdk_pixbuf_new_from_file(argv[1], &err);
  if (!pb) {
    fprintf(stderr, "png_check: %s\n", err->message);
    return 1;
  }
  int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
  int stride = gdk_pixbuf_get_rowstride(pb), nch = gdk_pixbuf_get_n_channels(pb);
  const guchar *px = gdk_pixbuf_read_pixels(pb);
  GHashTable *colours = g_hash_table_new(g_direct_hash, g_direct_equal);
  long dark = 0, token_bg = 0, red_text = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const guchar *p = px + (size_t)y * stride + (size_t)x * nch;
      int r = p[0], g = p[1], b = p[2];
      if (nch == 4 && p[3] == 0) continue; /* transparent: outside the window */
      g_hash_table_add(colours, GINT_TO_POINTER((r << 16) | (g << 8) | b));
      if (r + g + b < 200) ++dark;
      /* a token background: light, saturated, blue the smallest channel (red..green hues) */
      if (b < r - 40 && b < g - 40 && r > 140 && g > 140) ++token_bg;
      if (r > 140 && g < 90 && b < 90) ++red_text;
    }
  }
  guint n_colours = g_hash_table_size(colours);
  printf("png_check: %dx%d, %u colours, %ld dark pixels, %ld token-background pixels, %ld red pixels\n", w, h,
         n_colours, dark, token_bg, red_text);
  int ok = w >= atoi(argv[2]) && h >= atoi(argv[3]) && n_colours >= 16 && dark >= 300;
  if (strcmp(argv[4], "tokens") == 0) ok = ok && token_bg >= 2000;
  else if (strcmp(argv[4], "error") == 0) ok = ok && red_text >= 100;
  else ok = 0;
  g_hash_table_destroy(colours);
  g_object_unref(pb);
  if (!ok) fprintf(stderr, "png_check: %s does not look as expected (%s)\n", argv[1], argv[4]);
  return ok ? 0 : 1;
}
