import * as tf from "@tensorflow/tfjs-core";
import { initTrainingBackend } from "./backend.js";
console.log(await initTrainingBackend(), await initTrainingBackend(), tf.getBackend());
const a = tf.randomNormal([512,512]); const t=Date.now(); for (let i=0;i<10;i++) { const c = tf.matMul(a,a); c.dataSync(); c.dispose(); } console.log((Date.now()-t)/10, "ms");
