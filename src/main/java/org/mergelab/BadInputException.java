package org.mergelab;

/**
 * Bad input from the user: a config, a file, an argument. The message is one line that names the file (and the
 * key, tensor or line) and says what was expected; the CLI prints it as is and exits with code 2.
 */
public class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
