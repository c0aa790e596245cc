package mae.viz;

/** What the project's HTML pages (the explain report, the study page) share: escaping, and the page's end. */
public final class Html {
    private Html() {}

    /** Text made safe for an HTML element or a double-quoted attribute. */
    public static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /**
     * The page's end: a line that says how many of its pictures the browser loaded, and the same counts as
     * data-images-total / data-images-loaded on body, which the headless-browser tests read. extraJs runs in the
     * same load handler (a page adds its own counts there).
     */
    public static String end(String extraJs) {
        return """
                <p id="picture-check">pictures: not checked (needs JavaScript)</p>
                <script>
                window.addEventListener('load', function () {
                  var imgs = document.images, ok = 0;
                  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
                  document.body.setAttribute('data-images-total', imgs.length);
                  document.body.setAttribute('data-images-loaded', ok);
                """ + extraJs + """
                  document.getElementById('picture-check').textContent = 'pictures: ' + ok + ' of ' + imgs.length + ' loaded';
                });
                </script>
                </body></html>
                """;
    }
}
