package main

// ringAbout describes the ring commands, for `ndshm help ring`.
const ringAbout = `
A ring is a zero-copy channel of frames between processes: a block whose
array has a leading slot axis, (slots, *frame). A writer fills a free slot
in place and publishes it; readers receive the slot's frame in place and
release it. Only sequence and slot numbers move between the processes.

ring send publishes a test pattern and ring recv checks it, so that a ring
(and a reader in another language) can be tried from the shell:

  ndshm ring create cam --dtype u1 --shape 480,640 --slots 4
  ndshm ring recv cam --verify &
  ndshm ring send cam --frames 1000 --rate 30 --wait-readers 1
  ndshm ring stat cam
  ndshm rm cam

Run 'ndshm help ring COMMAND' for a command's flags.`
