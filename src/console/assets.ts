import { SCRIPT } from "./assets/script.ts";
import { STYLE } from "./assets/style.ts";

/** The page shell: everything else is drawn by the script from the JSON API. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>opentrail console</title>
<link rel="stylesheet" href="/console/app.css">
</head>
<body>
<div id="app" aria-live="polite"><p>Loading…</p></div>
<noscript>The console needs JavaScript.</noscript>
<script src="/console/app.js"></script>
</body>
</html>
`;

/** What the console serves from the package: nothing is fetched from anywhere else. */
export const ASSETS: Readonly<Record<string, { type: string; body: string }>> = {
  "/": { type: "text/html; charset=utf-8", body: PAGE },
  "/app.js": { type: "text/javascript; charset=utf-8", body: SCRIPT },
  "/app.css": { type: "text/css; charset=utf-8", body: STYLE },
};
