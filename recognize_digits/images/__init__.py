"""Reading a user's own image of a digit, or of a number, as MNIST's digits look.

    loading      any image file -> 8-bit grey (and the chapter's load_image)
    desk         the desk beyond the sheet's edge, covered with paper
    lighting     the paper's uneven light taken away; which side is ink
    lines        ruled and squared paper's lines told from a digit's strokes
    frames       a digit inside a box or on a tile: the window to read it in
    ink          find_ink: steps 0-3 together, the ink as white on black
    preprocess   to_mnist: the ink cropped, its strokes to MNIST's width, 20x20 in 28x28
    pieces       the connected pieces of ink, with their boxes
    segment      a number's ink split into digits
    number       all the digits of an image read in one batch, and the result
    sureness     whether the reader is sure of a digit
    letters      letters drawn in matplotlib's fonts, to tell a letter from a digit
    morphology   dilation, erosion, connected components (numpy only)
"""
