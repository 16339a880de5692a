import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The console is served by the orderflow binary at /admin (assets embedded at compile time),
// so every asset URL is under /admin/. `npm run dev` proxies the API to a local server.
export default defineConfig({
  base: "/admin/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Deterministic output: CI rebuilds the bundle and fails when it differs from the commit.
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: {
      "/v1": process.env.ORDERFLOW_URL ?? "http://127.0.0.1:8080",
    },
  },
});
