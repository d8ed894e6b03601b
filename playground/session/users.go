package session

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

// Bounds on the api origin's user store.
const (
	MaxUsers  = 100
	maxLogins = 32
)

// User is a record of the api origin's user store.
type User struct {
	ID       int    `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// Users is the api origin's small user store, with login tokens for the
// cookie that POST /login sets.
type Users struct {
	mu     sync.Mutex
	users  []User
	nextID int
	logins []login // oldest first
}

type login struct {
	token  string
	userID int
}

// Errors the user store returns; the api origin turns them into statuses.
var (
	ErrNoUser    = errors.New("no such user")
	ErrUsersFull = fmt.Errorf("the user store is full (%d users)", MaxUsers)
	ErrBadUser   = errors.New(`a user needs a "username" of 1 to 32 letters, digits, '.', '_' or '-'`)
	ErrTaken     = errors.New("that username is taken")
)

func newUsers() *Users {
	u := &Users{}
	for _, seed := range []User{{Username: "ada", Name: "Ada Lovelace"}, {Username: "grace", Name: "Grace Hopper"}, {Username: "alan", Name: "Alan Turing"}} {
		u.create(seed)
	}
	return u
}

// List returns every user.
func (u *Users) List() []User {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]User(nil), u.users...)
}

// Get returns the user with the given id.
func (u *Users) Get(id int) (User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if i := u.index(id); i >= 0 {
		return u.users[i], nil
	}
	return User{}, ErrNoUser
}

// Create adds a user and gives it the next id.
func (u *Users) Create(in User) (User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.check(in, 0); err != nil {
		return User{}, err
	}
	if len(u.users) >= MaxUsers {
		return User{}, ErrUsersFull
	}
	return u.create(in), nil
}

func (u *Users) create(in User) User {
	u.nextID++
	in.ID = u.nextID
	u.users = append(u.users, in)
	return in
}

// Update applies fn to the user with the given id and keeps the result if it
// is still a valid user.
func (u *Users) Update(id int, fn func(*User)) (User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	i := u.index(id)
	if i < 0 {
		return User{}, ErrNoUser
	}
	next := u.users[i]
	fn(&next)
	next.ID = id
	if err := u.check(next, id); err != nil {
		return User{}, err
	}
	u.users[i] = next
	return next, nil
}

// Delete removes a user and its logins.
func (u *Users) Delete(id int) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	i := u.index(id)
	if i < 0 {
		return ErrNoUser
	}
	u.users = append(u.users[:i], u.users[i+1:]...)
	kept := u.logins[:0]
	for _, l := range u.logins {
		if l.userID != id {
			kept = append(kept, l)
		}
	}
	u.logins = kept
	return nil
}

// Login returns a new token for the named user; an empty name logs in the
// first user. Only the newest logins are remembered.
func (u *Users) Login(username string) (string, User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, usr := range u.users {
		if username == "" || usr.Username == username {
			var b [16]byte
			rand.Read(b[:])
			token := hex.EncodeToString(b[:])
			u.logins = append(u.logins, login{token, usr.ID})
			if len(u.logins) > maxLogins {
				u.logins = u.logins[1:]
			}
			return token, usr, nil
		}
	}
	return "", User{}, ErrNoUser
}

// Whoami returns the user a login token belongs to.
func (u *Users) Whoami(token string) (User, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, l := range u.logins {
		if l.token == token {
			if i := u.index(l.userID); i >= 0 {
				return u.users[i], nil
			}
		}
	}
	return User{}, ErrNoUser
}

func (u *Users) index(id int) int {
	for i, usr := range u.users {
		if usr.ID == id {
			return i
		}
	}
	return -1
}

// check validates a user; self is the id the user already has (0 for new).
func (u *Users) check(in User, self int) error {
	if !validUsername(in.Username) || len(in.Name) > 100 {
		return ErrBadUser
	}
	for _, usr := range u.users {
		if usr.Username == in.Username && usr.ID != self {
			return ErrTaken
		}
	}
	return nil
}

func validUsername(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
