// The npm `espeak-ng` package (eSpeak NG compiled by Emscripten) ships no types: the parts we use.
declare module 'espeak-ng' {
  interface EspeakFs {
    writeFile(path: string, data: string | Uint8Array): void;
    readFile(path: string): Uint8Array;
  }
  interface EspeakModuleOptions {
    /** espeak-ng's command line; main() runs with it as soon as the instance is ready… */
    arguments: string[];
    /** …unless this is set. */
    noInitialRun?: boolean;
    /** Called by exit(); Emscripten's own sets process.exitCode. */
    quit?: (status: number, toThrow: Error) => void;
    preRun?: ((module: { FS: EspeakFs }) => void)[];
    print?: (line: string) => void;
    printErr?: (line: string) => void;
    /** Emscripten's hook to instantiate an already compiled module instead of fetching the .wasm. */
    instantiateWasm?: (imports: object, done: (instance: object) => void) => object;
  }
  export default function ESpeakNg(options: EspeakModuleOptions): Promise<{ FS: EspeakFs }>;
}
